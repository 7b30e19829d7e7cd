package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/compiled"
)

// SnapshotVersion is the format version written into snapshots. Restore
// refuses any other.
const SnapshotVersion = 1

// Codec encodes a machine's data in snapshots.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default Codec: encoding/json.
type JSONCodec struct{}

// Marshal is json.Marshal.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal is json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Snapshot is an Instance's state between steps, in a form that survives a
// restart: its JSON encoding is the wire format.
type Snapshot struct {
	// Version is the format version, SnapshotVersion when written.
	Version int `json:"version"`
	// Machine is the definition's name.
	Machine string `json:"machine"`
	// Fingerprint is the definition's Fingerprint, in hexadecimal.
	Fingerprint string `json:"fingerprint"`
	// State is the current state's label.
	State string `json:"state"`
	// Generation is the Instance's generation.
	Generation uint32 `json:"generation"`
	// Data is the machine's data encoded by the Codec.
	Data []byte `json:"data"`
	// Timers are the pending delayed transitions, with absolute deadlines.
	Timers []SnapshotTimer `json:"timers,omitempty"`
}

// SnapshotTimer is a pending delayed transition.
type SnapshotTimer struct {
	// Transition is the transition's declaration index.
	Transition int `json:"transition"`
	// Deadline is when it falls due on the machine's clock.
	Deadline time.Time `json:"deadline"`
}

// Sentinels that *SnapshotError matches.
var (
	ErrSnapshotMalformed = errors.New("snapshot is malformed")
	ErrSnapshotVersion   = errors.New("snapshot has an unsupported version")
	ErrSnapshotMismatch  = errors.New("snapshot is of another definition")
	ErrSnapshotState     = errors.New("snapshot names an unknown state")
	ErrSnapshotTimer     = errors.New("snapshot has an invalid timer")
	ErrSnapshotData      = errors.New("snapshot data does not decode")
)

// SnapshotError reports a snapshot that cannot be restored. Its message
// is bounded in size however large the snapshot: it quotes at most
// maxQuoted bytes of any field and cuts Detail and the Cause's message to
// maxErrorPart bytes each.
type SnapshotError struct {
	// Err is one of the ErrSnapshot sentinels.
	Err error
	// Detail says what was found.
	Detail string
	// Cause is an underlying error (from the JSON decoder or Codec), or
	// nil. Its own message may quote the snapshot at any length.
	Cause error
}

// Bounds on what a *SnapshotError's message holds of the snapshot.
const (
	maxQuoted    = 64  // bytes of a field quoted in Detail
	maxErrorPart = 256 // bytes of Detail, and of the Cause's message
)

// Error describes the problem.
func (e *SnapshotError) Error() string {
	s := "engine: " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + cutText(e.Detail, maxErrorPart)
	}
	if e.Cause != nil {
		s += ": " + cutText(e.Cause.Error(), maxErrorPart)
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *SnapshotError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// cutText returns s, or when it is longer than max bytes its first max
// bytes (at a rune boundary) followed by "…(N bytes)".
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return prefix(s, max) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// quoteInput quotes a field of the snapshot, cut like cutText to
// maxQuoted bytes.
func quoteInput(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(prefix(s, maxQuoted)) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// prefix returns at most the first max bytes of s, not splitting a rune.
func prefix(s string, max int) string {
	n := min(max, len(s))
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// DecodeSnapshot parses the JSON form of a Snapshot, refusing trailing data,
// unknown fields and unsupported versions with a *SnapshotError.
func DecodeSnapshot(b []byte) (*Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &SnapshotError{Err: ErrSnapshotMalformed, Cause: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &SnapshotError{Err: ErrSnapshotMalformed, Detail: "trailing data after the snapshot"}
	}
	if s.Version != SnapshotVersion {
		return nil, &SnapshotError{Err: ErrSnapshotVersion, Detail: "version " + strconv.Itoa(s.Version)}
	}
	return &s, nil
}

// Snapshot returns the Instance's state between steps: it waits for any
// step in progress to finish.
func (i *Instance[S, E, D]) Snapshot() (*Snapshot, error) {
	i.lock()
	defer i.unlock(nil)
	c := &i.core
	data, err := i.codec().Marshal(c.data)
	if err != nil {
		return nil, fmt.Errorf("engine: snapshot of %s: encoding data: %w", c.m.Name, err)
	}
	s := &Snapshot{
		Version: SnapshotVersion, Machine: c.m.Name,
		Fingerprint: strconv.FormatUint(i.def.Fingerprint(), 16),
		State:       c.label(c.cur), Generation: uint32(i.word.Load() >> 32), Data: data,
	}
	for _, a := range i.armed {
		s.Timers = append(s.Timers, SnapshotTimer{Transition: c.m.Edge(a.slot).Decl, Deadline: a.deadline})
	}
	sort.SliceStable(s.Timers, func(a, b int) bool { return s.Timers[a].Deadline.Before(s.Timers[b].Deadline) })
	return s, nil
}

func (i *Instance[S, E, D]) codec() Codec { return i.cfgCodec }

// Restore returns an Instance of def in the state a snapshot recorded. It
// refuses, with a *SnapshotError, a snapshot of another definition (name or
// fingerprint), of another version, naming an unknown state, with a timer
// that is not a delayed transition out of that state, or whose data does not
// decode. Entry actions do not run again. Timers still pending are armed
// for the time left; timers already due fire at once, in deadline order,
// before Restore returns (the first to fire moves the machine on, which
// makes the others stale, exactly as if the process had not stopped).
func Restore[S, E comparable, D any](def *fsm.Definition[S, E, D], s *Snapshot, opts ...Option) (*Instance[S, E, D], error) {
	if s == nil {
		return nil, &SnapshotError{Err: ErrSnapshotMalformed, Detail: "nil snapshot"}
	}
	if s.Version != SnapshotVersion {
		return nil, &SnapshotError{Err: ErrSnapshotVersion, Detail: "version " + strconv.Itoa(s.Version)}
	}
	if s.Machine != def.Name() || s.Fingerprint != strconv.FormatUint(def.Fingerprint(), 16) {
		return nil, &SnapshotError{Err: ErrSnapshotMismatch, Detail: fmt.Sprintf("snapshot of %s (%s), definition %q (%x)", quoteInput(s.Machine), quoteInput(s.Fingerprint), def.Name(), def.Fingerprint())}
	}
	m := compiled.Of[S, E, D](def)
	cur := -1
	for k := range m.States {
		if m.States[k].Label == s.State {
			cur = k
			break
		}
	}
	if cur < 0 {
		return nil, &SnapshotError{Err: ErrSnapshotState, Detail: quoteInput(s.State)}
	}
	if m.States[cur].InitialChild >= 0 {
		return nil, &SnapshotError{Err: ErrSnapshotState, Detail: quoteInput(s.State) + " is a composite state, not a leaf"}
	}
	timers := append([]SnapshotTimer(nil), s.Timers...)
	for _, t := range timers {
		if t.Transition < 0 || t.Transition >= m.Decls() {
			return nil, &SnapshotError{Err: ErrSnapshotTimer, Detail: "transition " + strconv.Itoa(t.Transition)}
		}
		if e := m.DeclEdge(t.Transition); e.Event >= 0 || !m.Within(cur, e.From) {
			return nil, &SnapshotError{Err: ErrSnapshotTimer, Detail: "transition " + strconv.Itoa(t.Transition) + " is not a delayed transition out of " + quoteInput(s.State) + " or a state containing it"}
		}
	}
	cfg := newConfig(opts)
	var data D
	if err := cfg.codec.Unmarshal(s.Data, &data); err != nil {
		return nil, &SnapshotError{Err: ErrSnapshotData, Cause: err}
	}
	i := &Instance[S, E, D]{cfgCodec: cfg.codec, def: def}
	i.core = core[S, E, D]{m: m, plain: m.Plain(), host: (*instanceHost[S, E, D])(i), data: data,
		clock: cfg.clock, obs: cfg.observer(), maxSteps: cfg.maxSteps, cur: cur}
	i.word.Store(uint64(s.Generation)<<32 | uint64(cur))
	i.lock()
	sort.SliceStable(timers, func(a, b int) bool { return timers[a].Deadline.Before(timers[b].Deadline) })
	now := cfg.clock.Now()
	var due []armedTimer
	for _, t := range timers {
		slot := m.Slot(t.Transition)
		if t.Deadline.After(now) {
			i.armAt(slot, t.Deadline)
		} else {
			// Listed as armed with no clock timer, so that a transition
			// taken by an earlier due timer drops it as it would a
			// running one (all of them in a flat machine; those of the
			// states left in a hierarchical one).
			i.seq++
			due = append(due, armedTimer{slot: slot, seq: i.seq, deadline: t.Deadline})
			i.armed = append(i.armed, due[len(due)-1])
		}
	}
	var err error
	for _, t := range due {
		if !i.disarm(t.seq) {
			continue // an earlier due timer moved the machine out of its state
		}
		i.core.steps = 0
		_, err = i.core.timer(context.Background(), t.slot)
		if derr := i.core.drain(context.Background()); err == nil {
			err = derr
		}
	}
	return i, i.unlock(err)
}
