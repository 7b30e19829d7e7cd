package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// Order is the state of the order saga of docs/sagas.md.
type Order struct {
	ID       string `json:"id"`
	Amount   int    `json:"amount"`
	Reserved string `json:"reserved,omitempty"`
}

// The order saga's actions: each forward action returns its output (any
// JSON-encodable type), which its compensation receives.
var (
	reserve = func(ctx context.Context, c saga.Call[Order]) (string, error) {
		c.State.Reserved = "r-" + c.State.ID // forward actions may change the state
		return c.State.Reserved, nil
	}
	release = func(ctx context.Context, c saga.Call[Order], reservation string) error { return nil }
	charge  = func(ctx context.Context, c saga.Call[Order]) (string, error) {
		return "pay-" + c.Key[:8], nil // c.Key: the same on every attempt and after a crash
	}
	refund         = func(ctx context.Context, c saga.Call[Order], paymentID string) error { return nil }
	ship           = func(ctx context.Context, c saga.Call[Order]) (string, error) { return "ship-1", nil }
	cancelShipment = func(ctx context.Context, c saga.Call[Order], shipment string) error { return nil }
)

// Saga is the snippet of docs/sagas.md.
func Saga(ctx context.Context) (Order, error) {
	// snippet:saga begin
	retry, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[struct{}]())
	if err != nil {
		return Order{}, err
	}
	cfg := saga.DefaultConfig() // 300s saga timeout, no journal
	orders, err := saga.New("order", cfg, []saga.Step[Order]{
		saga.NewStep("reserve inventory", reserve, release),
		saga.NewStep("charge payment", charge, refund).ProtectedBy(retry),
		saga.NewStep("create shipment", ship, cancelShipment),
	})
	if err != nil {
		return Order{}, err // an *errorrecovery.ConfigError
	}

	order, err := orders.Run(ctx, "order-42", Order{ID: "42", Amount: 1999})
	if se, ok := errors.AsType[*saga.Error](err); ok {
		// undone, last step first; se.State is Compensated or CompensationFailed
		return order, fmt.Errorf("order 42 rolled back (%v): %w", se.State, se.Cause)
	}
	return order, err
	// snippet:saga end
}
