package budget

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Budget is a retry budget: a shared engine.Instance of the machine
// Definition returns (Available, Exhausted) that allows retries while
// they stay under Ratio of the recent executions plus MinPerSecond a
// second. Record each execution with Deposit and ask for each retry with
// Withdraw; one Budget is meant to be shared by every caller of a
// dependency, so that together they cannot turn its outage into a retry
// storm.
//
// A Budget is safe for concurrent use and must not be copied (go vet's
// copylocks check reports a copy). Make one with New; the zero Budget is
// not usable.
//
// Deposit counts the execution in the current slice of the window with
// one compare-and-swap, after one reading of the clock, and fires nothing
// unless the budget is Exhausted and the execution makes room for a
// retry. Withdraw fires EventWithdraw, so that the check and the spend
// are one step of the machine, except while the budget is Exhausted with
// no room, when it refuses with no lock (the definition's edge for that
// is internal and changes nothing).
type Budget struct {
	_ noCopy

	// Set at construction, read-only after.
	inst    *engine.Instance[State, Event, *Budget]
	clock   engine.Clock
	origin  time.Time // the clock's time at construction: slices are counted from it
	cfg     Config    // resolved
	ratio   int64     // Ratio, in millionths; 0 for NoRatio
	reserve int64     // MinPerSecond times Window in seconds: retries allowed whatever the traffic
	width   int64     // a slice, ns
	fast    bool      // the definition is Definition() and no observer watches: Withdraw may take its steps compiled (see Withdraw)
	mono    bool      // the clock is engine.RealClock: read the monotonic clock alone (see now)
	errOut  *ExhaustedError

	_   [64]byte
	dep counter // executions, by slice
	_   [64]byte
	wd  counter // retries, by slice; added to only under the Instance's lock, by the spend action or spendAvailable
	_   [64]byte

	withdrawn, refused atomic.Uint64
}

// noCopy makes go vet's copylocks check report a copy of the struct that
// holds it, as sync.Mutex does; it takes no space.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New returns an Available Budget for cfg, or the *setup.ConfigError
// (errorrecovery.ConfigError) of the first invalid field. Its window
// starts now on its clock, empty: at first only the minimum is allowed.
// Of the options it reads engine.WithClock (the clock the window runs
// on; tests pass an enginetest.Clock), engine.WithObserver (sees every
// step of the machine, not the deposits that fire nothing) and
// engine.WithDefinition (a variant of Definition, of the types
// *fsm.Definition[State, Event, *Budget], whose steps commit regardless
// of the caller's context; with one, every Withdraw fires).
func New(cfg Config, opts ...engine.Option) (*Budget, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, *Budget](configName, Definition, opts)
	if err != nil {
		return nil, err
	}
	if !o.Def.CommitsRegardless() {
		return nil, setup.Err(configName, "Definition", o.Def.Name(), "must commit regardless of the caller's context (fsm.Builder.CommitRegardless): its steps spend retries")
	}
	cfg = cfg.resolved()
	b := &Budget{clock: o.Clock, origin: o.Clock.Now(), cfg: cfg,
		width: int64(cfg.Window / slices), fast: o.Def == Definition() && o.Observer == nil,
		errOut: &ExhaustedError{Ratio: cfg.Ratio, MinPerSecond: cfg.MinPerSecond, Window: cfg.Window}}
	_, b.mono = o.Clock.(engine.RealClock)
	if cfg.Ratio > 0 {
		b.ratio = int64(math.Round(cfg.Ratio * unit))
	}
	if cfg.MinPerSecond > 0 {
		b.reserve = int64(cfg.MinPerSecond) * int64(cfg.Window/time.Second)
	}
	inst, err := engine.NewInstance(o.Def, b, o.EngineOptions()...)
	if err != nil {
		return nil, err
	}
	b.inst = inst
	return b, nil
}

// since is t in ns since the origin, never negative.
func (b *Budget) since(t time.Time) int64 { return max(int64(t.Sub(b.origin)), 0) }

// slice is the number of the slice t falls in.
func (b *Budget) slice(t time.Time) int64 { return b.since(t) / b.width }

// nowSlice is the number of the current slice. On the real clock it reads
// the monotonic clock alone (time.Since): the budget needs no wall time,
// and time.Now's reading of both costs about twice as much.
func (b *Budget) nowSlice() int64 {
	if b.mono {
		return max(int64(time.Since(b.origin)), 0) / b.width
	}
	return b.slice(b.clock.Now())
}

// Deposit records an execution: one call of the dependency made for its
// own sake, not a retry (a retry is asked for with Withdraw instead). It
// allocates nothing and, unless the budget is Exhausted, takes no lock.
func (b *Budget) Deposit() {
	idx := b.nowSlice()
	b.dep.add(idx)
	if b.inst.State() == StateExhausted && (!b.fast || b.within(idx)) {
		_, _ = b.inst.Fire(context.Background(), EventDeposit)
	}
}

// Withdraw asks for a retry. It returns nil, having counted the retry,
// when the retries of the window stay within Ratio of its executions
// plus the minimum, and otherwise the budget's *ExhaustedError (errors.Is
// ErrExhausted), made once: refusing allocates nothing. A refused retry
// should end the retrying; a fallback still applies.
//
// With Definition and no observer, Withdraw takes two of the machine's
// internal steps compiled, with their effects and nothing else: while
// Exhausted with no room it refuses after reading the window, with no
// lock; while Available with room it counts the retry under the
// Instance's lock, as the step's guard and spend action would. Any other
// withdrawal (one that exhausts the budget, or finds the state changed)
// is fired.
func (b *Budget) Withdraw() error {
	idx := b.nowSlice()
	if b.fast {
		switch b.inst.State() {
		case StateExhausted:
			if !b.within(idx) {
				b.refused.Add(1)
				return b.errOut
			}
		case StateAvailable:
			if b.spendAvailable(idx) {
				b.withdrawn.Add(1)
				return nil
			}
		}
	}
	c := callPool.Get().(*call)
	c.idx = idx
	_, _ = engine.FireWith(context.Background(), b.inst, EventWithdraw, c)
	spent := c.spent
	*c = call{}
	callPool.Put(c)
	if !spent {
		b.refused.Add(1)
		return b.errOut
	}
	b.withdrawn.Add(1)
	return nil
}

// spendAvailable is Definition's step Available --withdraw [retry within
// budget] / spend retry (internal), compiled: under the Instance's lock,
// if the budget is still Available and the retry fits in slice idx, it
// counts the retry and reports true. Otherwise it changes nothing and
// reports false, and Withdraw fires the event.
func (b *Budget) spendAvailable(idx int64) (spent bool) {
	b.inst.Do(func(s State, _ **Budget) {
		if s == StateAvailable && b.within(idx) {
			b.wd.add(idx)
			spent = true
		}
	})
	return spent
}

// State reports the budget's state, from one atomic load. It takes no
// lock and changes nothing.
func (b *Budget) State() State { return b.inst.State() }

// Definition returns the definition the budget runs.
func (b *Budget) Definition() *fsm.Definition[State, Event, *Budget] { return b.inst.Definition() }

// Config returns the config the budget runs with, resolved (see
// Config.Resolve).
func (b *Budget) Config() Config { return b.cfg }

// Close stops the budget's pending timer. Use it when discarding a budget
// on a real clock. Afterwards an Exhausted budget becomes Available only
// through a deposit or a withdraw that finds room.
func (b *Budget) Close() { b.inst.Close() }

// Metrics are a budget's state, its window and its counters, read one
// after another without stopping concurrent calls.
type Metrics struct {
	// State is the budget's state.
	State State
	// Executions and Retries are the deposits and the allowed retries
	// counted in the window now.
	Executions, Retries int64
	// Allowed is the number of retries the budget would allow now, with
	// nothing more recorded: Ratio of Executions plus the minimum, less
	// Retries, rounded down, and never below zero.
	Allowed int64
	// Withdrawn and Refused count the retries allowed and refused since
	// the budget was made.
	Withdrawn, Refused uint64
}

// Metrics returns the budget's state, window and counters. It takes no
// lock.
func (b *Budget) Metrics() Metrics {
	d, w := b.sums(b.nowSlice())
	return Metrics{
		State:      b.inst.State(),
		Executions: d, Retries: w,
		Allowed:   max(b.balance(d, w)/unit, 0),
		Withdrawn: b.withdrawn.Load(),
		Refused:   b.refused.Load(),
	}
}
