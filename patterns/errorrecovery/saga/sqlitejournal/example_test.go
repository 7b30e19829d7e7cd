package sqlitejournal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/sqlitejournal"
)

// Order is the state of the checkout saga.
type Order struct {
	ID    string
	Total int
}

// newCheckout builds the checkout saga, journaled in j. chargeCard panics
// when crash is set, as if the process died while the card was charged.
func newCheckout(j saga.Journal, crash bool) (*saga.Saga[Order], error) {
	cfg := saga.DefaultConfig()
	cfg.SaveState, cfg.Journal = true, j
	return saga.New("checkout", cfg, []saga.Step[Order]{
		saga.NewStep("reserve stock",
			func(ctx context.Context, c saga.Call[Order]) (string, error) { return "rsv_3", nil },
			func(ctx context.Context, c saga.Call[Order], reservation string) error {
				fmt.Println("released", reservation)
				return nil
			}),
		saga.NewStep("charge card",
			func(ctx context.Context, c saga.Call[Order]) (string, error) {
				if crash {
					panic("process killed")
				}
				return "pay_9", nil
			},
			func(ctx context.Context, c saga.Call[Order], payment string) error {
				// The charge's outcome was never journaled, so payment is
				// empty: the payment service finds the charge by c.Key.
				fmt.Printf("refunded charge %q\n", payment)
				return nil
			}),
	})
}

// A journal in a SQLite file outlives the process: after a crash, the next
// process opens it and Recover rolls back what the crashed run left owed.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sagas")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal.db")
	ctx := context.Background()

	// The first process crashes in the middle of a checkout.
	journal, err := sqlitejournal.Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	checkout, _ := newCheckout(journal, true)
	func() {
		defer func() { fmt.Println("crashed:", recover()) }()
		checkout.Run(ctx, "order-77", Order{ID: "77", Total: 4990})
	}()
	journal.Close()

	// The next process opens the same file at startup.
	journal, err = sqlitejournal.Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer journal.Close()
	logs, _ := journal.Incomplete(ctx)
	for _, l := range logs {
		last := l.Records[len(l.Records)-1]
		fmt.Println("incomplete:", l.ID, "last record:", last.Kind, last.Step)
	}

	checkout, _ = newCheckout(journal, false)
	registry, _ := saga.NewRegistry(checkout)
	recovered, err := saga.Recover(ctx, journal, registry)
	for _, r := range recovered {
		fmt.Println(r.ID, r.State, r.Err)
	}
	logs, _ = journal.Incomplete(ctx)
	fmt.Println(len(logs), "incomplete", err)
	// Output:
	// crashed: process killed
	// incomplete: order-77 last record: step-started charge card
	// refunded charge ""
	// released rsv_3
	// order-77 Compensated <nil>
	// 0 incomplete <nil>
}
