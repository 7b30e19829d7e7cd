package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// attemptData is a retry-like run's data: a function that fails a given
// number of times.
type attemptData struct {
	failures int
	attempts int
}

type rm = states.Machine[string, string, attemptData]

// retryLike is the shape of a retry policy: Attempt is a choice state that
// calls the function and branches on the outcome; Backoff waits (here zero)
// and goes back.
func retryLike(tb testing.TB) *fsm.Definition[string, string, attemptData] {
	b := fsm.New[string, string, attemptData]("retry-like")
	b.State("start", states.Initial)
	b.Choice("attempt", states.Chooser("call", func(ctx context.Context, m rm) (string, error) {
		d := m.Data()
		d.attempts++
		if d.attempts <= d.failures {
			return "failed", nil
		}
		return "succeeded", nil
	}))
	b.State("backoff", states.Normal)
	b.State("done", states.Final)
	b.State("exhausted", states.Final)
	b.On("start", "begin", "attempt")
	b.On("attempt", "succeeded", "done")
	b.On("attempt", "failed", "backoff")
	b.After("backoff", 0, "attempt")
	b.On("backoff", "give up", "exhausted")
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func TestRunWaitsForDelayedTransitionsUntilFinal(t *testing.T) {
	r := engine.NewRunner(retryLike(t))
	ctx := context.Background()
	run, err := r.Start(ctx, attemptData{failures: 2})
	require.NoError(t, err)
	defer run.Release()
	res, err := run.Fire(ctx, "begin")
	require.NoError(t, err, "Fire(begin)")
	require.Equal(t, "backoff", res.To, "Fire(begin)")
	assert.Equal(t, 1, run.Pending(), "Pending")
	require.NoError(t, run.Wait(ctx))
	assert.True(t, run.Done(), "Done()")
	assert.Equal(t, "done", run.State(), "State()")
	assert.Equal(t, 3, run.Data().attempts, "attempts")
	_, err = run.Fire(ctx, "begin")
	assert.ErrorIs(t, err, engine.ErrFinished, "Fire in a final state")
	assert.ErrorIs(t, err, engine.ErrUnhandled, "Fire in a final state")
}

func TestRunLeavingAStateDropsItsTimers(t *testing.T) {
	r := engine.NewRunner(retryLike(t))
	ctx := context.Background()
	run, _ := r.Start(ctx, attemptData{failures: 5})
	defer run.Release()
	run.Fire(ctx, "begin")
	if _, err := run.Fire(ctx, "give up"); err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, 0, run.Pending(), "Pending after leaving backoff")
	// The dropped timer must not fire.
	assert.NoError(t, run.Wait(ctx), "Wait")
	assert.Equal(t, "exhausted", run.State(), "State()")
	assert.Equal(t, 1, run.Data().attempts, "attempts")
}

func TestRunReleaseRecyclesWithoutLeakingData(t *testing.T) {
	r := engine.NewRunner(retryLike(t))
	ctx := context.Background()
	for k := range 3 {
		run, _ := r.Start(ctx, attemptData{failures: k})
		require.Equal(t, 0, run.Data().attempts)
		require.Equal(t, "start", run.State())
		run.Fire(ctx, "begin")
		run.Wait(ctx)
		assert.Equal(t, k+1, run.Data().attempts, "run %d: attempts", k)
		run.Release()
	}
}

// keptData is a run's data with a part the Recycle keeps.
type keptData struct {
	buf   []int // kept, emptied
	calls int   // dropped
}

func TestRunRecycleKeepsWhatResetKeepsAndBeginStartsFromIt(t *testing.T) {
	b := fsm.New[string, string, keptData]("kept")
	b.State("start", states.Initial)
	b.State("done", states.Final)
	b.On("start", "go", "done")
	r := engine.NewRunner(b.MustBuild())
	ctx := context.Background()
	reset := func(d *keptData) { *d = keptData{buf: d.buf[:0]} }
	kept := 0
	for k := range 50 {
		run, err := r.Begin(ctx)
		require.NoError(t, err)
		require.Equal(t, "start", run.State(), "run %d", k)
		d := run.Data()
		require.Zero(t, d.calls, "run %d: data the reset dropped", k)
		require.Empty(t, d.buf, "run %d: the kept buffer comes back emptied", k)
		if cap(d.buf) > 0 {
			kept++ // the state came back from the pool with its buffer
		}
		d.buf = append(d.buf, k)
		d.calls = k + 1
		_, err = run.Fire(ctx, "go")
		require.NoError(t, err)
		require.True(t, run.Done())
		run.Recycle(reset)
	}
	// The Runner's pool may drop a state (the race detector drops one Put
	// in four on purpose), never all of them.
	assert.Positive(t, kept, "no run began with a kept buffer")

	run, _ := r.Start(ctx, keptData{calls: 7})
	assert.Equal(t, keptData{calls: 7}, *run.Data(), "Start replaces whatever a Recycle kept")
	run.Release()
	run, _ = r.Begin(ctx)
	assert.Equal(t, keptData{}, *run.Data(), "Begin after Release starts from zero")
	run.Release()
}

func TestRunStartsAHierarchicalMachineQuietlyOrWithItsEntries(t *testing.T) {
	// A start path without entry actions, timers or a choice costs
	// nothing to enter; one whose parent has an entry action still runs
	// it.
	for _, withEntry := range []bool{false, true} {
		b := fsm.New[string, string, int]("nested")
		outer := b.State("outer", states.Initial)
		b.State("start", states.Normal).In("outer").First()
		if withEntry {
			outer.OnEntry(states.Do("count", func(_ context.Context, m states.Machine[string, string, int]) error {
				*m.Data()++
				return nil
			}))
		}
		b.State("done", states.Final)
		b.On("outer", "go", "done")
		r := engine.NewRunner(b.MustBuild())
		ctx := context.Background()
		run, err := r.Begin(ctx)
		require.NoError(t, err)
		assert.Equal(t, "start", run.State())
		assert.True(t, run.IsIn("outer"))
		want := 0
		if withEntry {
			want = 1
		}
		assert.Equal(t, want, *run.Data(), "entries run on start (entry declared: %v)", withEntry)
		_, err = run.Fire(ctx, "go")
		require.NoError(t, err)
		assert.Equal(t, "done", run.State())
		run.Release()
	}
}

func TestRunAllocatesNothingPerExecution(t *testing.T) {
	ctx := context.Background()
	toggle := engine.NewRunner(toggleDef(t))
	testutil.WantAllocs(t, 0, "toggle run", func() {
		run, _ := toggle.Start(ctx, 0)
		run.Fire(ctx, 0)
		run.Fire(ctx, 0)
		run.Release()
	})
	retry := engine.NewRunner(retryLike(t))
	testutil.WantAllocs(t, 0, "retry-like run with choice, raise-free backoff and Wait", func() {
		run, _ := retry.Start(ctx, attemptData{failures: 2})
		run.Fire(ctx, "begin")
		run.Wait(ctx)
		run.Release()
	})
	testutil.WantAllocs(t, 0, "retry-like run begun and recycled", func() {
		run, _ := retry.Begin(ctx)
		run.Data().failures = 2
		run.Fire(ctx, "begin")
		run.Wait(ctx)
		run.Recycle(func(d *attemptData) { *d = attemptData{} })
	})
}

func TestInstanceFireAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	i, _ := engine.NewInstance(toggleDef(t), 0)
	testutil.WantAllocs(t, 0, "plain toggle", func() { i.Fire(ctx, 0) })

	b := fsm.New[string, string, []string]("guarded")
	b.State("a", states.Initial)
	b.Internal("a", "tick").When(alwaysGuard).Do(states.Do("noop", func(context.Context, mach) error { return nil }))
	gi, _ := engine.NewInstance(b.MustBuild(), nil)
	testutil.WantAllocs(t, 0, "guard and action", func() { gi.Fire(ctx, "tick") })
}

func TestRunChoiceChainsAndTheirErrors(t *testing.T) {
	ctx := context.Background()
	b := fsm.New[string, string, int]("chain")
	b.State("idle", states.Initial)
	b.Choice("spin", states.Chooser("again", func(ctx context.Context, m states.Machine[string, string, int]) (string, error) {
		*m.Data()++
		switch *m.Data() {
		case 1000:
			return "", errors.New("tired")
		case 2000:
			m.Raise("stop")
			return "rest", nil
		}
		return "spin", nil
	}))
	b.State("resting", states.Normal)
	b.On("idle", "go", "spin")
	b.On("spin", "spin", "spin")
	b.On("spin", "rest", "resting")
	b.On("resting", "stop", "idle")
	r := engine.NewRunner(b.MustBuild(), engine.WithMaxSteps(50))
	run, _ := r.Start(ctx, 0)
	defer run.Release()

	_, err := run.Fire(ctx, "go")
	assert.ErrorIs(t, err, engine.ErrStepLimit, "choice loop")
	assert.Equal(t, 50, *run.Data(), "choices before the step limit")

	*run.Data() = 990
	res, err := run.Fire(ctx, "spin")
	var ae *engine.ActionError
	if !errors.As(err, &ae) || ae.Phase != engine.PhaseChoice || res.To != "spin" {
		t.Errorf("choice error: %+v %v, want a choice-phase error in spin", res, err)
	}

	*run.Data() = 1990
	res, err = run.Fire(ctx, "spin")
	if err != nil || res.To != "resting" || run.State() != "idle" {
		t.Errorf("raise from a choice: %+v %v, state %s; want the rest at resting, then the raised stop", res, err, run.State())
	}
}

// startRun builds b and starts a Run of it with data 0, released when the
// test ends.
func startRun(t *testing.T, b *fsm.Builder[string, string, int]) engine.Run[string, string, int] {
	t.Helper()
	run, err := engine.NewRunner(b.MustBuild()).Start(context.Background(), 0)
	require.NoError(t, err)
	t.Cleanup(run.Release)
	return run
}

func TestRunChoiceErrorOnTheFastPathRoutesToTheErrorState(t *testing.T) {
	b := fsm.New[string, string, int]("run-errors")
	b.State("idle", states.Initial)
	b.Choice("deciding", states.Chooser("decide", func(context.Context, states.Machine[string, string, int]) (string, error) {
		return "", errors.New("undecided")
	}))
	b.State("broken", states.Final)
	b.On("idle", "decide", "deciding")
	b.On("deciding", "stop", "idle")
	b.ErrorState("broken")
	run := startRun(t, b)
	res, err := run.Fire(context.Background(), "decide")
	if err == nil || res.To != "broken" || !run.Done() {
		t.Errorf("got %+v %v in %s, want the error state", res, err, run.State())
	}
}

// A choice function that panics partway along a chain of choices ends the
// chain as an error it returned would: a choice-phase *ActionError wrapping
// a *PanicError with the value and a stack, the run in the error state, and
// the Result of the event fired. A panic elsewhere is not caught there.
func TestRunChoicePanicAlongAChainIsTheStepsError(t *testing.T) {
	b := fsm.New[string, string, int]("run-panics")
	b.State("idle", states.Initial)
	b.Choice("first", states.Chooser("pass", func(context.Context, states.Machine[string, string, int]) (string, error) {
		return "next", nil
	}))
	b.Choice("second", states.Chooser("explode", func(_ context.Context, m states.Machine[string, string, int]) (string, error) {
		*m.Data()++
		panic("boom")
	}))
	b.State("broken", states.Final)
	b.On("idle", "go", "first")
	b.On("first", "next", "second")
	b.On("second", "done", "idle")
	b.ErrorState("broken")
	run := startRun(t, b)

	res, err := run.Fire(context.Background(), "go")
	var ae *engine.ActionError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, engine.PhaseChoice, ae.Phase)
	assert.Equal(t, "second", ae.State)
	assert.Equal(t, "next", ae.Event)
	assert.Equal(t, "explode", ae.Action)
	var pe *engine.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "TestRunChoicePanicAlongAChainIsTheStepsError", "the stack of the panic")
	assert.Equal(t, engine.Result[string]{From: "idle", To: "broken", Transition: 0}, res)
	assert.True(t, run.Done(), "in the error state")
	assert.Equal(t, 1, *run.Data(), "the choice ran once")
}

func TestUndeclaredErrorStateIsRefused(t *testing.T) {
	b := fsm.New[string, string, int]("bad")
	b.State("idle", states.Initial)
	b.Internal("idle", "x")
	b.ErrorState("nowhere")
	if _, err := b.Build(); !errors.Is(err, fsm.ErrUnknownState) {
		t.Errorf("Build = %v, want ErrUnknownState", err)
	}
}

// cancelInChoice is a machine whose choice state cancels the caller's
// context and moves on: the chain start → check → done, with check's
// choice function calling *cancel mid-chain.
func cancelInChoice(tb testing.TB, regardless bool, cancel *context.CancelFunc) *fsm.Definition[string, string, attemptData] {
	b := fsm.New[string, string, attemptData]("cancel mid-chain")
	b.State("start", states.Initial)
	b.Choice("check", states.Chooser("cancel", func(context.Context, rm) (string, error) {
		(*cancel)()
		return "ok", nil
	}))
	b.State("done", states.Final)
	b.On("start", "begin", "check")
	b.On("check", "ok", "done").Do(states.Do("bookkeeping", func(context.Context, rm) error { return nil }))
	if regardless {
		b.CommitRegardless()
	}
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func TestCommitRegardlessFinishesAChainWhoseContextEnds(t *testing.T) {
	for _, regardless := range []bool{false, true} {
		var cancel context.CancelFunc
		def := cancelInChoice(t, regardless, &cancel)
		require.Equal(t, regardless, def.CommitsRegardless(), "CommitsRegardless()")
		for name, fire := range map[string]func(ctx context.Context) (string, error){
			"Run": func(ctx context.Context) (string, error) {
				run, _ := engine.NewRunner(def).Start(ctx, attemptData{})
				defer run.Release()
				_, err := run.Fire(ctx, "begin")
				return run.State(), err
			},
			"Instance": func(ctx context.Context) (string, error) {
				inst, err := engine.NewInstance(def, attemptData{})
				require.NoError(t, err)
				_, err = inst.Fire(ctx, "begin")
				return inst.State(), err
			},
		} {
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			got, err := fire(ctx)
			cancel()
			if regardless {
				if err != nil || got != "done" {
					t.Errorf("%s, commit regardless: state %q, err %v; want done, nil", name, got, err)
				}
				continue
			}
			if !errors.Is(err, engine.ErrNotTransitioned) || got != "check" {
				t.Errorf("%s: state %q, err %v; want check and ErrNotTransitioned", name, got, err)
			}
		}
	}
}

// stepArg is the argument TestFireWithHandsTheStepItsArgument passes.
type stepArg struct {
	in  int
	out string
}

func TestFireWithHandsTheStepItsArgument(t *testing.T) {
	b := fsm.New[string, string, attemptData]("with argument")
	b.State("idle", states.Initial)
	b.State("busy", states.Normal)
	big := func(m rm) bool { a, ok := engine.ArgOf[stepArg](m); return ok && a.in > 10 }
	b.On("idle", "go", "busy").When(transitions.If("big", big)).Do(states.Do("answer", func(_ context.Context, m rm) error {
		a, _ := engine.ArgOf[stepArg](m)
		a.out = fmt.Sprint("got ", a.in)
		return nil
	}))
	b.Internal("idle", "go").Do(states.Do("no argument", func(_ context.Context, m rm) error {
		if a, ok := engine.ArgOf[stepArg](m); ok {
			a.out = "small"
		} else if _, ok := engine.ArgOf[int](m); ok {
			t.Error("ArgOf of another type reported an argument")
		}
		return nil
	}))
	b.On("busy", "done", "idle")
	inst, err := engine.NewInstance(b.MustBuild(), attemptData{})
	require.NoError(t, err)
	ctx := context.Background()
	small := stepArg{in: 1}
	if _, err := engine.FireWith(ctx, inst, "go", &small); err != nil || small.out != "small" || inst.State() != "idle" {
		t.Errorf("small argument: state %q, out %q, err %v", inst.State(), small.out, err)
	}
	if _, err := engine.FireWith[stepArg](ctx, inst, "go", nil); err != nil || inst.State() != "idle" {
		t.Errorf("no argument: state %q, err %v", inst.State(), err)
	}
	large := stepArg{in: 42}
	if _, err := engine.FireWith(ctx, inst, "go", &large); err != nil || large.out != "got 42" || inst.State() != "busy" {
		t.Errorf("large argument: state %q, out %q, err %v", inst.State(), large.out, err)
	}
}

func TestFireWithAllocatesNothing(t *testing.T) {
	b := fsm.New[string, string, attemptData]("with argument")
	b.State("idle", states.Initial)
	b.Internal("idle", "go").Do(states.Do("read", func(_ context.Context, m rm) error {
		if a, ok := engine.ArgOf[stepArg](m); ok {
			a.out = "read"
		}
		return nil
	}))
	inst, err := engine.NewInstance(b.MustBuild(), attemptData{})
	require.NoError(t, err)
	arg := &stepArg{}
	testutil.WantAllocs(t, 0, "FireWith", func() { engine.FireWith(context.Background(), inst, "go", arg) })
	assert.Equal(t, "read", arg.out, "the action's view of the argument")
}
