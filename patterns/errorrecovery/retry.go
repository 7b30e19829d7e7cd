package errorrecovery

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// RetryState is a state of the retry and deadline machines.
type RetryState uint8

// The states of one execution. Attempt is a choice state: entering it
// calls the function, and the outcome is the event it leaves by.
const (
	RetryStart     RetryState = iota // before the first attempt
	RetryAttempt                     // calling the function (choice)
	RetryBackoff                     // waiting before the next attempt
	RetrySucceeded                   // final: the function succeeded
	RetryExhausted                   // final: every attempt allowed failed
	RetryFailed                      // final: a permanent error, or the caller's context ended
	RetryTimedOut                    // final: the overall deadline passed
)

var retryStateNames = [...]string{"Start", "Attempt", "Backoff", "Succeeded", "Exhausted", "Failed", "TimedOut"}

// String returns the state's name, as diagrams and traces print it.
func (s RetryState) String() string {
	if int(s) < len(retryStateNames) {
		return retryStateNames[s]
	}
	return "RetryState(?)"
}

// RetryEvent is an event of the retry and deadline machines: how an
// attempt was classified.
type RetryEvent uint8

// The events.
const (
	RetryBegin     RetryEvent = iota // start the first attempt
	RetrySuccess                     // the attempt succeeded
	RetryRetryable                   // the attempt failed in a way worth retrying
	RetryPermanent                   // the attempt failed for good, or the caller's context ended
	RetryDeadline                    // the overall deadline passed during the attempt
)

var retryEventNames = [...]string{"begin", "success", "retryable", "permanent", "deadline"}

// String returns the event's name.
func (e RetryEvent) String() string {
	if int(e) < len(retryEventNames) {
		return retryEventNames[e]
	}
	return "RetryEvent(?)"
}

// RetryRun is the data of one execution, as the machine's actions and
// guards see it. Its fields are the executor's business; the accessors
// below let an observer or a custom definition read them.
type RetryRun[T any] struct {
	x        *executor[T]
	fn       func(context.Context) (T, error)
	ctx      callCtx
	attempt  int
	result   T
	err      error         // the last attempt's error
	delay    time.Duration // the next backoff
	prev     time.Duration // the previous backoff, for DECORRELATED
	deadline time.Time     // the overall deadline; zero when none
	final    error         // the error the execution returns
	walked   bool          // a walk-away attempt was abandoned: never recycle
}

// Attempt returns the number of attempts made so far.
func (r *RetryRun[T]) Attempt() int { return r.attempt }

// Err returns the last attempt's error.
func (r *RetryRun[T]) Err() error { return r.err }

// Delay returns the backoff before the next attempt.
func (r *RetryRun[T]) Delay() time.Duration { return r.delay }

type retryMachine[T any] = states.Machine[RetryState, RetryEvent, RetryRun[T]]

// executor is what RetryExecutor and DeadlineExecutor share: a definition,
// the Runner that runs it, and the configuration its actions read.
type executor[T any] struct {
	def      *fsm.Definition[RetryState, RetryEvent, RetryRun[T]]
	runner   *engine.Runner[RetryState, RetryEvent, RetryRun[T]]
	retry    RetryConfig[T]
	deadline DeadlineConfig
	clock    engine.Clock
	random   func() float64
	opts     []engine.Option
}

// ExecutorOption configures a RetryExecutor or DeadlineExecutor.
type ExecutorOption func(*executorOptions)

type executorOptions struct {
	clock    engine.Clock
	random   func() float64
	deadline DeadlineConfig
	observer engine.Observer
}

// WithClock sets the clock that backoffs and deadlines run on; nil means
// the real clock. Tests pass an enginetest.Clock.
func WithClock(c engine.Clock) ExecutorOption {
	return func(o *executorOptions) { o.clock = c }
}

// WithRandom sets the source of uniform numbers in [0, 1) that jitter
// draws from; nil means math/rand/v2's Float64. It must be safe for
// concurrent use if the executor is. With the same source, clock and
// inputs, executions take the same path at the same times.
func WithRandom(f func() float64) ExecutorOption {
	return func(o *executorOptions) { o.random = f }
}

// WithDeadline adds a DEADLINE layer to a RetryExecutor: an overall timeout
// and a per-attempt timeout.
func WithDeadline(d DeadlineConfig) ExecutorOption {
	return func(o *executorOptions) { o.deadline = d }
}

// WithObserver attaches an engine observer to every execution.
func WithObserver(obs engine.Observer) ExecutorOption {
	return func(o *executorOptions) { o.observer = obs }
}

func newExecutor[T any](retry RetryConfig[T], opts []ExecutorOption, build func(*executor[T]) *fsm.Definition[RetryState, RetryEvent, RetryRun[T]]) (*executor[T], error) {
	var o executorOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.deadline.Validate(); err != nil {
		return nil, err
	}
	x := &executor[T]{retry: retry, deadline: o.deadline, clock: o.clock, random: o.random}
	if x.clock == nil {
		x.clock = engine.RealClock{}
	}
	if x.random == nil {
		x.random = rand.Float64
	}
	x.opts = []engine.Option{engine.WithClock(x.clock)}
	if o.observer != nil {
		x.opts = append(x.opts, engine.WithObserver(o.observer))
	}
	x.def = build(x)
	x.runner = engine.NewRunner(x.def, x.opts...)
	return x, nil
}

// RetryExecutor runs a function with retries, as a Run of its retry
// machine (Definition): there is no loop beside the machine. It is safe for
// concurrent use.
type RetryExecutor[T any] struct {
	x *executor[T]
}

// NewRetryExecutor returns a RetryExecutor for cfg, or the *ConfigError of
// the first invalid field.
func NewRetryExecutor[T any](cfg RetryConfig[T], opts ...ExecutorOption) (*RetryExecutor[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	x, err := newExecutor(cfg, opts, buildRetryDefinition[T])
	if err != nil {
		return nil, err
	}
	return &RetryExecutor[T]{x}, nil
}

// Definition returns the retry machine the executor runs.
func (r *RetryExecutor[T]) Definition() *fsm.Definition[RetryState, RetryEvent, RetryRun[T]] {
	return r.x.def
}

// Execute calls fn until it succeeds, fails for good, or runs out of
// attempts or time, and returns its last result with:
//
//   - nil when an attempt succeeded;
//   - an *ExhaustedError (errors.Is ErrExhausted) when every attempt
//     allowed failed, unwrapping to the last error (ErrBadResult when the
//     last result was rejected by RetryOnResult);
//   - the function's error when it is permanent (Permanent, PermanentOn,
//     or not in RetryOn when that is given), or the caller's context error
//     when ctx ended;
//   - a *TimeoutError (errors.Is context.DeadlineExceeded) when the overall
//     deadline passed, during an attempt or before a backoff that would
//     have ended after it.
//
// Classification follows this order: the caller's context ended or the
// error is permanent → stop; the result predicate; the attempt's own
// timeout → retry; RetryOn when given; otherwise retry. A panic in fn is
// not retried: the execution is ended and the panic goes on in the
// caller's goroutine with the original value.
//
// fn receives a context carrying the attempt number and the time left
// (AttemptFromContext, TimeLeft); it must not use it after returning.
func (r *RetryExecutor[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	return r.x.execute(ctx, fn, r.x.runner)
}

// Trace is like Execute but also returns the execution's steps through the
// retry machine, in order. It costs allocations Execute does not.
func (r *RetryExecutor[T]) Trace(ctx context.Context, fn func(context.Context) (T, error)) (T, []Step, error) {
	return r.x.trace(ctx, fn)
}

// Step is one step of an execution through its machine.
type Step = engine.Record

func (x *executor[T]) trace(ctx context.Context, fn func(context.Context) (T, error)) (T, []Step, error) {
	var recs []engine.Record
	obs := engine.ObserverFunc(func(rec engine.Record) { recs = append(recs, rec) })
	runner := engine.NewRunner(x.def, append(x.opts[:len(x.opts):len(x.opts)], engine.WithObserver(obs))...)
	res, err := x.execute(ctx, fn, runner)
	return res, recs, err
}

// execute is one execution: start a run, fire Begin, wait out its
// delayed transitions, read the outcome from the final state.
func (x *executor[T]) execute(ctx context.Context, fn func(context.Context) (T, error), runner *engine.Runner[RetryState, RetryEvent, RetryRun[T]]) (T, error) {
	run, _ := runner.Start(ctx, RetryRun[T]{})
	d := run.Data()
	d.x, d.fn = x, fn
	d.ctx.parent, d.ctx.clock = ctx, x.clock
	if x.deadline.Timeout > 0 {
		d.deadline = x.clock.Now().Add(x.deadline.Timeout)
	}
	_, err := run.Fire(ctx, RetryBegin)
	if err == nil && !run.Done() {
		if err = run.Wait(ctx); errors.Is(err, engine.ErrNotTransitioned) {
			// The caller gave up during a backoff: the machine records it.
			d.err = ctx.Err()
			_, err = run.Fire(context.WithoutCancel(ctx), RetryPermanent)
		}
	}
	res, final, walked := d.result, d.final, d.walked
	if err != nil && final == nil {
		final = err
	}
	if !walked {
		d.ctx.reset()
		run.Release()
	}
	if pe, ok := errors.AsType[*engine.PanicError](err); ok {
		panic(pe.Value)
	}
	return res, final
}

// buildRetryDefinition declares the retry machine.
func buildRetryDefinition[T any](x *executor[T]) *fsm.Definition[RetryState, RetryEvent, RetryRun[T]] {
	b := fsm.New[RetryState, RetryEvent, RetryRun[T]]("retry")
	b.State(RetryStart, states.Initial)
	b.Choice(RetryAttempt, states.Chooser("call function", x.call))
	b.State(RetryBackoff, states.Normal)
	b.State(RetrySucceeded, states.Final)
	fail := states.Do("on failure", x.fail)
	for _, s := range []RetryState{RetryExhausted, RetryFailed, RetryTimedOut} {
		b.State(s, states.Final).OnEntry(fail)
	}
	attemptsLeft := transitions.If("attempts left", func(m retryMachine[T]) bool {
		return m.Data().attempt < x.retry.MaxAttempts
	})
	fits := transitions.If("backoff ends before deadline", func(m retryMachine[T]) bool {
		d := m.Data()
		return d.deadline.IsZero() || m.Now().Add(d.delay).Before(d.deadline)
	})
	b.On(RetryStart, RetryBegin, RetryAttempt)
	b.On(RetryAttempt, RetrySuccess, RetrySucceeded)
	b.On(RetryAttempt, RetryRetryable, RetryBackoff).
		When(transitions.And(attemptsLeft, fits)).
		Do(states.Do("on retry", x.onRetry))
	b.On(RetryAttempt, RetryRetryable, RetryTimedOut).When(attemptsLeft)
	b.On(RetryAttempt, RetryRetryable, RetryExhausted)
	b.On(RetryAttempt, RetryPermanent, RetryFailed)
	b.On(RetryAttempt, RetryDeadline, RetryTimedOut)
	b.AfterFunc(RetryBackoff, "backoff", func(m retryMachine[T]) time.Duration { return m.Data().delay }, RetryAttempt)
	b.On(RetryBackoff, RetryPermanent, RetryFailed) // the caller's context ended while waiting
	return b.MustBuild()
}

// call is the Attempt state's choice function: one attempt, classified.
func (x *executor[T]) call(ctx context.Context, m retryMachine[T]) (RetryEvent, error) {
	d := m.Data()
	d.attempt++
	deadline := d.deadline
	if t := x.deadline.AttemptTimeout; t > 0 {
		if ad := x.clock.Now().Add(t); deadline.IsZero() || ad.Before(deadline) {
			deadline = ad
		}
	}
	if x.deadline.WalkAway && !deadline.IsZero() {
		d.result, d.err = x.walkAway(d, deadline)
	} else {
		d.ctx.begin(d.attempt, deadline)
		d.result, d.err = d.fn(&d.ctx)
	}
	return x.classify(d, deadline), nil
}

// classify turns an attempt's outcome into the event the machine leaves
// Attempt by, in the order Execute documents.
func (x *executor[T]) classify(d *RetryRun[T], attemptDeadline time.Time) RetryEvent {
	err := d.err
	if cerr := d.ctx.parent.Err(); cerr != nil {
		d.err = cerr
		return RetryPermanent
	}
	if !d.deadline.IsZero() && (err != nil || d.walked) && !x.clock.Now().Before(d.deadline) {
		return RetryDeadline
	}
	if err == nil {
		if x.retry.RetryOnResult != nil && x.retry.RetryOnResult(d.result) {
			d.err = ErrBadResult
			return x.retryable(d)
		}
		return RetrySuccess
	}
	if IsPermanent(err) || matchAny(x.retry.PermanentOn, err) {
		return RetryPermanent
	}
	if !attemptDeadline.IsZero() && errors.Is(err, context.DeadlineExceeded) && !x.clock.Now().Before(attemptDeadline) {
		return x.retryable(d) // the attempt's own timeout: transient
	}
	if len(x.retry.RetryOn) > 0 && !matchAny(x.retry.RetryOn, err) {
		return RetryPermanent
	}
	return x.retryable(d)
}

// retryable computes the next backoff (when one may follow) and returns
// RetryRetryable.
func (x *executor[T]) retryable(d *RetryRun[T]) RetryEvent {
	if d.attempt < x.retry.MaxAttempts {
		prev := d.prev
		if prev == 0 {
			prev = x.retry.InitialDelay
		}
		if after, ok := carriedDelay(d.err); ok {
			d.delay = x.retry.capDelay(float64(after))
		} else {
			d.delay = x.retry.delay(d.attempt, prev, x.random)
		}
	}
	return RetryRetryable
}

// onRetry is the action of Attempt → Backoff.
func (x *executor[T]) onRetry(ctx context.Context, m retryMachine[T]) error {
	d := m.Data()
	d.prev = d.delay
	if x.retry.OnRetry != nil {
		x.retry.OnRetry(d.attempt, d.err, d.delay)
	}
	return nil
}

// fail is the entry action of the failure states: it settles the error the
// execution returns and calls OnFailure.
func (x *executor[T]) fail(ctx context.Context, m retryMachine[T]) error {
	d := m.Data()
	switch m.State() {
	case RetryExhausted:
		d.final = &ExhaustedError{Attempts: d.attempt, Last: d.err}
	case RetryTimedOut:
		d.final = &TimeoutError{Timeout: x.deadline.Timeout, Attempts: d.attempt, Last: d.err}
	default:
		d.final = d.err
	}
	if x.retry.OnFailure != nil {
		x.retry.OnFailure(d.final)
	}
	return nil
}
