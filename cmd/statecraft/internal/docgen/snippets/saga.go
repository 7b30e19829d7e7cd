package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
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
	reserve = func(ctx context.Context, c errorrecovery.SagaCall[Order]) (string, error) {
		c.State.Reserved = "r-" + c.State.ID // forward actions may change the state
		return c.State.Reserved, nil
	}
	release = func(ctx context.Context, c errorrecovery.SagaCall[Order], reservation string) error { return nil }
	charge  = func(ctx context.Context, c errorrecovery.SagaCall[Order]) (string, error) {
		return "pay-" + c.Key[:8], nil // c.Key: the same on every attempt and after a crash
	}
	refund         = func(ctx context.Context, c errorrecovery.SagaCall[Order], paymentID string) error { return nil }
	ship           = func(ctx context.Context, c errorrecovery.SagaCall[Order]) (string, error) { return "ship-1", nil }
	cancelShipment = func(ctx context.Context, c errorrecovery.SagaCall[Order], shipment string) error { return nil }
)

// Saga is the snippet of docs/sagas.md.
func Saga(ctx context.Context) (Order, error) {
	// snippet:saga begin
	retry, err := errorrecovery.NewRetryExecutor(errorrecovery.DefaultRetryConfig[struct{}]())
	if err != nil {
		return Order{}, err
	}
	cfg := errorrecovery.DefaultCompensationConfig() // 300s saga timeout, no journal
	saga, err := errorrecovery.NewSaga("order", cfg, []errorrecovery.SagaStep[Order]{
		errorrecovery.NewSagaStep("reserve inventory", reserve, release),
		errorrecovery.NewSagaStep("charge payment", charge, refund).ProtectedBy(retry),
		errorrecovery.NewSagaStep("create shipment", ship, cancelShipment),
	})
	if err != nil {
		return Order{}, err // a *ConfigError
	}

	order, err := saga.Run(ctx, "order-42", Order{ID: "42", Amount: 1999})
	if se, ok := errors.AsType[*errorrecovery.SagaError](err); ok {
		// undone, last step first; se.State is Compensated or CompensationFailed
		return order, fmt.Errorf("order 42 rolled back (%v): %w", se.State, se.Cause)
	}
	return order, err
	// snippet:saga end
}
