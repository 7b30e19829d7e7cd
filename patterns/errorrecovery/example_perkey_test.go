package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// A breaker per host: the failing host's breaker opens, the other host's
// calls go on.
func ExamplePerKeyConfig() {
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Primary: er.StrategyCircuitBreaker,
		Breaker: &breaker.Config{FailureThreshold: 2, WindowDuration: breaker.CountOnly},
		PerKey:  &er.PerKeyConfig{KeyName: "host", Registry: perkey.Config{MaxKeys: 100}},
	})
	if err != nil {
		panic(err)
	}
	get := func(host string) error {
		_, err := w.Execute(er.WithKey(context.Background(), host), func(context.Context) (string, error) {
			if host == "down.example" {
				return "", errors.New("connection refused")
			}
			return "ok", nil
		})
		return err
	}
	for range 2 {
		fmt.Println(get("down.example"), "|", get("up.example"))
	}
	err = get("down.example")
	fmt.Println(errors.Is(err, breaker.ErrOpen), "|", get("up.example"))
	hs := w.HealthByKey()
	fmt.Println(hs["down.example"].Breaker, hs["up.example"].Breaker)
	fmt.Printf("%+v\n", w.Metrics().PerKey)
	// Output:
	// connection refused | <nil>
	// connection refused | <nil>
	// true | <nil>
	// Open Closed
	// {Keys:2 Created:2 CreateFailed:0 EvictedIdle:0 EvictedBound:0 Closed:0}
}
