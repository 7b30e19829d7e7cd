package fsm_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
)

// These tests read the tables Build lays out for the drivers
// (internal/compiled), as package engine does.

// idxEvent is an integer-kind event type with a String method, as users
// write them.
type idxEvent int

func (e idxEvent) String() string { return "ev" + strconv.Itoa(int(e)) }

// idxChain builds a machine of n states in a line, 0 --next--> 1 --next-->
// … --> n-1, with the last final and every state also able to reset to 0.
func idxChain[S comparable](t *testing.T, ids []S) *fsm.Definition[S, idxEvent, struct{}] {
	t.Helper()
	b := fsm.New[S, idxEvent, struct{}]("chain")
	for i, id := range ids {
		kind := states.Normal
		switch i {
		case 0:
			kind = states.Initial
		case len(ids) - 1:
			kind = states.Final
		}
		b.State(id, kind)
	}
	for i := range len(ids) - 1 {
		b.On(ids[i], 0, ids[i+1])
		b.On(ids[i], -5, ids[0])
	}
	def, err := b.Build()
	require.NoError(t, err)
	return def
}

func TestDefinitionWithThousandStates(t *testing.T) {
	const n = 1000
	ints := make([]int, n)
	strs := make([]string, n)
	for i := range n {
		ints[i] = i * 3 // spread, still dense enough for a table
		strs[i] = "s" + strconv.Itoa(i)
	}

	t.Run("int states", func(t *testing.T) {
		m := compiled.Of[int, idxEvent, struct{}](idxChain(t, ints))
		idxWalk(t, m, ints)
		if m.StateIndex(1) != -1 || m.StateIndex(n*3) != -1 {
			t.Error("a state not declared has an index")
		}
	})
	t.Run("string states", func(t *testing.T) {
		m := compiled.Of[string, idxEvent, struct{}](idxChain(t, strs))
		idxWalk(t, m, strs)
		assert.Equal(t, -1, m.StateIndex("s1000"), "a state not declared has an index")
	})
}

// idxWalk follows the chain through the tables, as a driver would.
func idxWalk[S comparable](t *testing.T, m *compiled.Machine[S, idxEvent, struct{}], ids []S) {
	t.Helper()
	require.Len(t, m.States, len(ids))
	require.Len(t, m.Events, 2)
	require.Len(t, m.Edges, 2*(len(ids)-1))
	next, reset := m.EventIndex(0), m.EventIndex(-5)
	require.Equal(t, 0, next)
	require.Equal(t, 1, reset)
	require.Equal(t, -1, m.EventIndex(1))
	assert.Equal(t, "ev-5", m.EventLabels[reset], "EventLabels[reset] (the event's String)")
	s := m.Initial
	for i, id := range ids {
		if got := m.StateIndex(id); got != i || s != i {
			t.Fatalf("step %d: StateIndex(%v) = %d, at %d", i, id, got, s)
		}
		if i == len(ids)-1 {
			require.Equal(t, states.Final, m.State(s).Kind, "last state")
			require.Empty(t, m.Candidates(s, next), "last state")
			break
		}
		if r := m.Candidates(s, reset); len(r) != 1 || r[0].To != 0 {
			t.Fatalf("state %v: reset candidates %v", id, r)
		}
		c := m.Candidates(s, next)
		if len(c) != 1 || c[0].From != s || !c[0].Plain {
			t.Fatalf("state %v: next candidates %v", id, c)
		}
		s = c[0].To
	}
}
