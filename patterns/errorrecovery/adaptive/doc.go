// Package adaptive provides an adaptive concurrency limiter: a bound on
// the calls in flight to a dependency that finds itself, from the
// calls' latency, instead of being a guessed number. While the dependency
// answers as fast as it does unloaded, the limit rises; when calls start
// waiting in its queue, it falls:
//
//	l, err := adaptive.New(adaptive.Config{MinLimit: 4, MaxLimit: 200})
//	if err != nil {
//		return err // an *errorrecovery.ConfigError naming the field
//	}
//	err = l.Protect(ctx, send)
//	if le, ok := errors.AsType[*adaptive.LimitError](err); ok {
//		log.Printf("shed: %d in flight, limit %d", le.InFlight, le.Limit)
//	}
//
// # The rule: Vegas, with a probe
//
// The limiter follows TCP Vegas, as Netflix's concurrency-limits' Vegas
// limit does, not the gradient rule: it compares each window's mean
// latency with a baseline, the latency of the dependency with no queue,
// and estimates the calls waiting there as
//
//	queue = limit × (1 − baseline / latency)
//
// Over beta (6·log10(limit), at least 4) the limit falls, under alpha
// (half of beta) while the calls reach at least half the limit it rises,
// in both cases Config.Smoothing of the way to the limit that would leave
// a queue midway between alpha and beta; in between it holds. Vegas was
// chosen because its fixed point is where the dependency starts to queue
// (the limit settles at the dependency's capacity plus a few calls, and
// stays there whatever the load), where a gradient rule compares the
// latency with its own moving average, which drifts up under sustained
// load and lets the limit creep with it. The price of Vegas is that its
// baseline goes stale when the dependency becomes slower for good; so
// every Config.ProbeEvery windows the limiter halves its limit for one
// window, lets the queue drain, and takes that window's shortest latency
// as the new baseline (TCP BBR's ProbeRTT does the same). The limit never
// leaves [MinLimit, MaxLimit]. docs/adaptive.md has the figures.
//
// # The machine
//
// A Limiter is a shared engine.Instance of Definition, with four states:
//
//	Probing     the limit is halved for a window, to measure the baseline
//	Steady      the queue is within bounds, or calls do not reach the limit
//	Growing     no queue while calls reach the limit: the limit rises
//	BackingOff  a queue over beta: the limit falls
//
// and one event, a window of samples closing. Every move of the limit is
// an action of one of its transitions, so a limiter can be drawn
// (Definition().Dot()), watched (engine.WithObserver: one step per
// window) and changed (engine.WithDefinition).
//
// # Acquire, Done and Protect
//
// Acquire admits a call while fewer than the limit are in flight, and
// otherwise rejects it at once with a *LimitError (errors.Is
// ErrLimitExceeded) saying the limit and the calls in flight; it never
// waits. The Permit it returns is a value: Done(err) gives the slot back
// and records the call's latency (a failure's too; a context.Canceled
// call is dropped), Drop gives it back without a sample. Protect runs a
// function between the two, and drops the permit if the function panics.
// Admission and Done under the limit allocate nothing: a window of samples
// is a few fields under a mutex, and the step that closes it is fired
// with an argument held by the limiter.
//
// # Clock
//
// Latencies and windows are measured on the limiter's clock
// (engine.WithClock; the real one by default), read once at Acquire and
// once at Done. On an enginetest.Clock a test moves the limiter through
// a latency model with no real sleeping. The limiter starts no goroutine
// and arms no timer: a window closes with the first call that ends after
// Config.Window has passed and Config.MinSamples calls have ended in it.
//
// # Composing
//
// A Limiter works alone around any call, and is meant to be shared by
// every caller of one dependency; package perkey keeps one per key (per
// host) when a service calls many.
package adaptive
