package saga_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// When a step fails, the saga undoes the steps that took effect, last
// first; each compensation gets the output of the step it undoes. With
// SaveState, every action is journaled before and after it runs.
func ExampleNew() {
	// Trip is the state the saga passes from step to step, kept as JSON.
	type Trip struct {
		Traveller string
		Seat      string
	}
	reserveSeat := saga.NewStep("reserve seat",
		func(ctx context.Context, c saga.Call[Trip]) (string, error) {
			c.State.Seat = "14C"
			fmt.Println("reserved seat", c.State.Seat)
			return c.State.Seat, nil
		},
		func(ctx context.Context, c saga.Call[Trip], seat string) error {
			fmt.Println("released seat", seat)
			return nil
		})
	chargeCard := saga.NewStep("charge card",
		func(ctx context.Context, c saga.Call[Trip]) (string, error) {
			fmt.Println("charged", c.State.Traveller)
			return "pay_81", nil
		},
		func(ctx context.Context, c saga.Call[Trip], payment string) error {
			fmt.Println("refunded", payment)
			return nil
		})
	errSoldOut := errors.New("hotel sold out")
	bookHotel := saga.NewStep("book hotel",
		func(ctx context.Context, c saga.Call[Trip]) (string, error) { return "", errSoldOut },
		nil) // in a run the last step is never undone: if it fails it took no effect

	journal := saga.NewMemoryJournal()
	cfg := saga.DefaultConfig()
	cfg.SaveState, cfg.Journal = true, journal
	trip, err := saga.New("book trip", cfg, []saga.Step[Trip]{reserveSeat, chargeCard, bookHotel})
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = trip.Run(context.Background(), "trip-1042", Trip{Traveller: "Ada"})
	var failed *saga.Error
	var step *saga.StepError
	if errors.As(err, &failed) && errors.As(err, &step) {
		fmt.Printf("%v: %s failed: %v\n", failed.State, step.Step, step.Err)
	}

	log, complete, _ := journal.Log("trip-1042")
	fmt.Println(len(log.Records), "journal records, complete:", complete)
	// Output:
	// reserved seat 14C
	// charged Ada
	// refunded pay_81
	// released seat 14C
	// Compensated: book hotel failed: hotel sold out
	// 11 journal records, complete: true
}

// Recover finishes, at startup, the sagas a crashed process left half done.
// A step that started but whose outcome the journal does not know asks its
// resolve hook whether it took effect.
func ExampleRecover() {
	type Trip struct{ Traveller string }
	journal := saga.NewMemoryJournal()
	cfg := saga.DefaultConfig()
	cfg.SaveState, cfg.Journal = true, journal

	crash := true
	steps := []saga.Step[Trip]{
		saga.NewStep("reserve seat",
			func(ctx context.Context, c saga.Call[Trip]) (string, error) { return "14C", nil },
			func(ctx context.Context, c saga.Call[Trip], seat string) error {
				fmt.Println("released seat", seat)
				return nil
			}),
		saga.NewStep("charge card",
			func(ctx context.Context, c saga.Call[Trip]) (string, error) { return "pay_81", nil },
			func(ctx context.Context, c saga.Call[Trip], payment string) error {
				fmt.Println("refunded", payment)
				return nil
			}),
		saga.NewStep("book hotel",
			func(ctx context.Context, c saga.Call[Trip]) (string, error) {
				if crash {
					panic("power cut") // the process dies before the outcome is journaled
				}
				return "htl_5", nil
			},
			func(ctx context.Context, c saga.Call[Trip], booking string) error {
				fmt.Println("cancelled", booking)
				return nil
			}).
			ResolvedBy(func(ctx context.Context, c saga.Call[Trip]) (bool, any, error) {
				fmt.Println("asking the hotel about", c.Step)
				return false, nil, nil // it holds no booking under c.Key
			}),
	}
	trip, err := saga.New("book trip", cfg, steps)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	func() {
		defer func() { fmt.Println("crashed:", recover()) }()
		trip.Run(ctx, "trip-7", Trip{Traveller: "Grace"})
	}()

	// The next process, at startup, before running new sagas:
	crash = false
	registry, err := saga.NewRegistry(trip)
	if err != nil {
		fmt.Println(err)
		return
	}
	recovered, err := saga.Recover(ctx, journal, registry)
	for _, r := range recovered {
		fmt.Println(r.ID, r.State, r.Err)
	}
	fmt.Println(err)
	// Output:
	// crashed: power cut
	// asking the hotel about book hotel
	// refunded pay_81
	// released seat 14C
	// trip-7 Compensated <nil>
	// <nil>
}
