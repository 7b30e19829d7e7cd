package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// huge is 10 MB of input, the size of a snapshot a caller might read from
// a file or a request body without a limit.
var huge = strings.Repeat("9", 10<<20)

// maxErrorLen bounds the message of an error about a snapshot, however
// large the snapshot.
const maxErrorLen = 1024

func TestDecodeSnapshotErrorsAreBoundedInSize(t *testing.T) {
	cases := []struct {
		name string
		wire string
	}{
		{"garbage", "\x00" + huge},
		{"unterminated", `{"version":1,"state":"` + huge},
		{"number too large", `{"version":` + huge + `}`},
		{"unknown field", `{"version":1,"` + huge + `":1}`},
		{"bad deadline", `{"version":1,"timers":[{"transition":0,"deadline":"` + huge + `"}]}`},
		{"bad data", `{"version":1,"data":"!` + huge + `"}`},
		{"trailing data", `{"version":1}` + huge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.DecodeSnapshot([]byte(tc.wire))
			var se *engine.SnapshotError
			require.ErrorAs(t, err, &se, "DecodeSnapshot")
			require.ErrorIs(t, err, engine.ErrSnapshotMalformed, "DecodeSnapshot")
			assert.LessOrEqual(t, len(err.Error()), maxErrorLen, "the error's message in bytes")
		})
	}
}

// The decoder's own error stays reachable for a caller who wants it.
func TestDecodeSnapshotErrorKeepsTheDecodersError(t *testing.T) {
	_, err := engine.DecodeSnapshot([]byte(`{"version":` + huge + `}`))
	var ute *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &ute, "DecodeSnapshot")
}

// echoCodec is a Codec whose errors quote all of their input, as a
// caller's Codec may.
type echoCodec struct{ engine.JSONCodec }

func (echoCodec) Unmarshal(data []byte, v any) error {
	return fmt.Errorf("cannot decode %q", data)
}

func TestRestoreErrorsAreBoundedInSize(t *testing.T) {
	def := lightDef(t)
	clk := enginetest.NewClock(time.Time{})
	i, _ := engine.NewInstance(def, nil, engine.WithClock(clk))
	good, _ := i.Snapshot()
	i.Close()
	cases := []struct {
		name string
		edit func(s *engine.Snapshot)
		want error
	}{
		{"machine", func(s *engine.Snapshot) { s.Machine = huge }, engine.ErrSnapshotMismatch},
		{"fingerprint", func(s *engine.Snapshot) { s.Fingerprint = huge }, engine.ErrSnapshotMismatch},
		{"state", func(s *engine.Snapshot) { s.State = huge }, engine.ErrSnapshotState},
		{"data", func(s *engine.Snapshot) { s.Data = []byte(huge) }, engine.ErrSnapshotData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := *good
			s.Timers = nil
			tc.edit(&s)
			_, err := engine.Restore(def, &s, engine.WithClock(clk), engine.WithCodec(echoCodec{}))
			var se *engine.SnapshotError
			require.ErrorAs(t, err, &se, "Restore")
			require.ErrorIs(t, err, tc.want, "Restore")
			assert.LessOrEqual(t, len(err.Error()), maxErrorLen, "the error's message in bytes")
		})
	}
}
