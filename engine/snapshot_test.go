package engine_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

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
			if _, ok := errors.AsType[*engine.SnapshotError](err); !ok || !errors.Is(err, engine.ErrSnapshotMalformed) {
				t.Fatalf("DecodeSnapshot: %T, want a *SnapshotError matching ErrSnapshotMalformed", err)
			}
			if n := len(err.Error()); n > maxErrorLen {
				t.Errorf("the error's message is %d bytes, want at most %d", n, maxErrorLen)
			}
		})
	}
}

// The decoder's own error stays reachable for a caller who wants it.
func TestDecodeSnapshotErrorKeepsTheDecodersError(t *testing.T) {
	_, err := engine.DecodeSnapshot([]byte(`{"version":` + huge + `}`))
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); !ok {
		t.Errorf("DecodeSnapshot: %T does not unwrap to the *json.UnmarshalTypeError", err)
	}
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
			if _, ok := errors.AsType[*engine.SnapshotError](err); !ok || !errors.Is(err, tc.want) {
				t.Fatalf("Restore: %T, want a *SnapshotError matching %v", err, tc.want)
			}
			if n := len(err.Error()); n > maxErrorLen {
				t.Errorf("the error's message is %d bytes, want at most %d", n, maxErrorLen)
			}
		})
	}
}
