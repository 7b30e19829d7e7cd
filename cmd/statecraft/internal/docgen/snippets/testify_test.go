package snippets

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// snippet:testing-testify begin
// doorDef is a door that closes itself 30 seconds after it opens.
func doorDef(t *testing.T) *fsm.Definition[string, string, struct{}] {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.On("Closed", "open", "Open")
	b.On("Open", "close", "Closed")
	b.After("Open", 30*time.Second, "Closed")
	def, err := b.Build()
	require.NoError(t, err) // a precondition: nothing below makes sense without it
	return def
}

func TestDoorClosesItselfAfter30Seconds(t *testing.T) {
	clk := enginetest.NewClock(time.Time{}) // 2000-01-01 UTC; moves only when told
	start := clk.Now()
	rec := &enginetest.Recorder{}
	door, err := engine.NewInstance(doorDef(t), struct{}{}, engine.WithClock(clk), engine.WithObserver(rec))
	require.NoError(t, err)
	defer door.Close()

	_, err = door.Fire(t.Context(), "open")
	require.NoError(t, err)
	clk.Advance(30*time.Second - time.Nanosecond)
	enginetest.AssertState(t, door, "Open")
	clk.Advance(time.Nanosecond) // runs the timer, in this goroutine
	enginetest.AssertState(t, door, "Closed")
	enginetest.AssertPath(t, rec, "Closed", "Open", "Closed")

	// The steps themselves: compare what the test pins, ignore the rest.
	want := []engine.Record{
		{Machine: "door", Time: start, From: "Closed", Event: "open", Transition: 0, To: "Open"},
		{Machine: "door", Time: start.Add(30 * time.Second), From: "Open", Event: "after 30s", Delayed: true,
			Transition: 2, To: "Closed"},
	}
	if diff := cmp.Diff(want, rec.Snapshot(), cmpopts.IgnoreFields(engine.Record{}, "Duration")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	assert.Equal(t, uint32(2), door.Generation(), "transitions taken") // Equal compares types too
}

// snippet:testing-testify end
