package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// entryMachine is a randomHier (flat when every parent is -1) whose
// states may have entry actions that log, raise an event, or fail, and
// which may have an error state: the transitions into states with entry
// actions and nothing else are the ones Run takes through a compiled
// link (compiled.Link.Enter), while Instance takes every one of them
// through the general stepping core.
type entryMachine struct {
	*randomHier
	entry   []int // per state: 0 none, 1 logs, 2 logs and raises e0, 3 fails
	errorSt bool  // an error state "err", with an entry action that logs
}

var errEntry = errors.New("entry failed")

func newEntryMachine(r *rand.Rand, flat bool) *entryMachine {
	h := newRandomHier(r)
	if flat {
		for i := range h.parent {
			h.parent[i] = -1
		}
	}
	m := &entryMachine{randomHier: h, entry: make([]int, h.n), errorSt: r.IntN(2) == 0}
	for i := range m.entry {
		if r.IntN(2) == 0 {
			m.entry[i] = 1 + r.IntN(3)
		}
	}
	for s := 0; ; s = h.children(s)[0] { // starting must not fail
		if m.entry[s] == 3 {
			m.entry[s] = 1
		}
		if len(h.children(s)) == 0 {
			break
		}
	}
	return m
}

func (m *entryMachine) build() *fsm.Definition[string, string, []string] {
	b := fsm.New[string, string, []string]("entries").AllowUnreachable()
	declare(m.randomHier, b, func(i int, s *states.Spec[string, string, []string]) {
		if m.entry[i] == 0 {
			return
		}
		label, how := "enter "+name(i), m.entry[i]
		s.OnEntry(states.Do(label, func(_ context.Context, sm states.Machine[string, string, []string]) error {
			*sm.Data() = append(*sm.Data(), label)
			switch how {
			case 2:
				sm.Raise("e0")
			case 3:
				return errEntry
			}
			return nil
		}))
	})
	if m.errorSt {
		b.State("err", states.Normal).OnEntry(states.Do("enter err", func(_ context.Context, sm states.Machine[string, string, []string]) error {
			*sm.Data() = append(*sm.Data(), "enter err")
			return nil
		}))
		b.ErrorState("err")
		b.On("err", "reset", "s0")
	}
	return b.MustBuild()
}

// Run, through its compiled links into states with entry actions, and
// Instance, through the general stepping core, agree on every step of
// random flat and hierarchical machines: the Result, the error (an entry
// action's *ActionError, a step limit when raised events loop), the state
// and the entry actions run, in order.
func TestRunLinksIntoEntryActionsMatchTheStepper(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 2))
	events := []string{"e0", "e1", "e2", "e3", "reset"}
	linked := 0
	for k := range 300 {
		m := newEntryMachine(r, k%2 == 0)
		def := m.build()
		inst, ierr := engine.NewInstance(def, nil)
		run, rerr := engine.NewRunner(def).Start(context.Background(), nil)
		require.Equal(t, fmt.Sprint(ierr), fmt.Sprint(rerr), "seed %d machine %d: starting", seed, k)
		if ierr != nil {
			continue // its start path raises events in a loop, which both report
		}
		require.Equal(t, inst.State(), run.State(), "seed %d machine %d: start", seed, k)
		require.Equal(t, logOf(inst), *run.Data(), "seed %d machine %d: start's entry actions", seed, k)
		for step := range 30 {
			e := events[r.IntN(len(events))]
			before := len(*run.Data())
			want, werr := inst.Fire(context.Background(), e)
			got, gerr := run.Fire(context.Background(), e)
			where := fmt.Sprintf("seed %d machine %d (%+v, entries %v, error state %v) step %d event %s", seed, k, m.randomHier, m.entry, m.errorSt, step, e)
			require.Equal(t, want, got, "%s: Result", where)
			require.Equal(t, fmt.Sprint(werr), fmt.Sprint(gerr), "%s: error", where)
			require.Equal(t, errors.Is(werr, errEntry), errors.Is(gerr, errEntry), "%s: the entry action's error", where)
			require.Equal(t, inst.State(), run.State(), "%s: state", where)
			require.Equal(t, logOf(inst), *run.Data(), "%s: entry actions run", where)
			if len(*run.Data()) > before && gerr == nil {
				linked++
			}
		}
		run.Release()
		inst.Close()
	}
	require.Greater(t, linked, 100, "seed %d: steps that ran entry actions", seed)
}

// logOf is a copy of the entry actions inst has run.
func logOf(inst *engine.Instance[string, string, []string]) (log []string) {
	inst.Do(func(_ string, d *[]string) { log = slices.Clone(*d) })
	return log
}
