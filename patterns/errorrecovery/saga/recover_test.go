package saga_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// tripCalls records the calls of the trip saga's actions: "do a", "undo
// a(A)" with the output received, and the key of each.
type tripCalls struct {
	calls []string
	keys  []string
}

// tripSaga is a three-step saga a, b, c whose outputs are "A", "B", "C";
// undoErr, when set, decides each compensation's error.
func tripSaga(t *testing.T, j saga.Journal, c *tripCalls, undoErr func(step string) error, edit func([]saga.Step[int])) *saga.Saga[int] {
	t.Helper()
	var steps []saga.Step[int]
	for _, name := range []string{"a", "b", "c"} {
		steps = append(steps, saga.NewStep(name,
			func(ctx context.Context, call saga.Call[int]) (string, error) {
				c.calls = append(c.calls, "do "+name)
				c.keys = append(c.keys, call.Key)
				*call.State += 1
				return string(rune(name[0] - 'a' + 'A')), nil
			},
			func(ctx context.Context, call saga.Call[int], out string) error {
				c.calls = append(c.calls, "undo "+name+"("+out+")")
				c.keys = append(c.keys, call.Key)
				if undoErr != nil {
					return undoErr(name)
				}
				return nil
			}))
	}
	if edit != nil {
		edit(steps)
	}
	cfg := saga.Config{SaveState: true, Journal: j}
	return mustSaga(t, "trip", cfg, steps)
}

// journalOf writes a saga's log as a crashed run would have left it:
// each entry is "kind step" or "kind step=output".
func journalOf(t *testing.T, j saga.Journal, id string, entries ...string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, j.Append(ctx, saga.Record{SagaID: id, Kind: saga.RecordBegun, Saga: "trip", Steps: []string{"a", "b", "c"}, State: json.RawMessage("0")}))
	for _, e := range entries {
		var kind saga.RecordKind
		var step, out string
		for i := range len(e) {
			if e[i] == ' ' {
				require.NoError(t, kind.UnmarshalText([]byte(e[:i])))
				step = e[i+1:]
				break
			}
		}
		rec := saga.Record{SagaID: id, Kind: kind, Step: step}
		for i := range len(step) {
			if step[i] == '=' {
				rec.Step, out = step[:i], step[i+1:]
				rec.Output, _ = json.Marshal(out)
				break
			}
		}
		require.NoError(t, j.Append(ctx, rec))
	}
}

func mustRecover(t *testing.T, j saga.Journal, sagas ...saga.Recoverable) []saga.Recovery {
	t.Helper()
	reg, err := saga.NewRegistry(sagas...)
	require.NoError(t, err)
	res, err := saga.Recover(context.Background(), j, reg)
	require.NoError(t, err, "Recover")
	return res
}

func wantCalls(t *testing.T, c *tripCalls, want ...string) {
	t.Helper()
	assert.Equal(t, want, c.calls, "calls")
}

func wantComplete(t *testing.T, j *saga.MemoryJournal, id string) {
	t.Helper()
	if _, complete, ok := j.Log(id); !ok || !complete {
		t.Errorf("saga %s: in journal %v, complete %v; want complete", id, ok, complete)
	}
}

func TestRecoverRollsBackWithoutRerunningCompletedSteps(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t1", "step-started a", "step-done a=A", "step-started b", "step-done b=B")
	var c tripCalls
	res := mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c, "undo b(B)", "undo a(A)")
	assert.Equal(t, []string{saga.IdempotencyKey("t1", "b", saga.PhaseCompensate), saga.IdempotencyKey("t1", "a", saga.PhaseCompensate)}, c.keys, "keys")
	if len(res) != 1 || res[0].ID != "t1" || res[0].Saga != "trip" || res[0].State.Kind != saga.StateCompensated || res[0].Err != nil {
		t.Errorf("result %+v, want t1 Compensated", res)
	}
	wantComplete(t, j, "t1")
	assert.Empty(t, mustRecover(t, j, tripSaga(t, j, &c, nil, nil)), "a second Recover found")
}

func TestRecoverTreatsAnUnknownOutcomeAsDoneWithoutAResolveHook(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t2", "step-started a", "step-done a=A", "step-started b")
	var c tripCalls
	mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c, "undo b()", "undo a(A)")
	wantComplete(t, j, "t2")
}

func TestRecoverAsksTheResolveHookAboutAnUnknownOutcome(t *testing.T) {
	cases := []struct {
		name    string
		applied bool
		output  any
		want    []string
		record  saga.RecordKind
	}{
		{"took effect", true, "B-resolved", []string{"undo b(B-resolved)", "undo a(A)"}, saga.RecordStepDone},
		{"took no effect", false, nil, []string{"undo a(A)"}, saga.RecordStepFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := saga.NewMemoryJournal()
			journalOf(t, j, "t3", "step-started a", "step-done a=A", "step-started b")
			var asked []string
			var c tripCalls
			s := tripSaga(t, j, &c, nil, func(steps []saga.Step[int]) {
				steps[1] = steps[1].ResolvedBy(func(ctx context.Context, call saga.Call[int]) (bool, any, error) {
					asked = append(asked, call.Step+" "+call.Phase.String()+" "+call.Key)
					return tc.applied, tc.output, nil
				})
			})
			mustRecover(t, j, s)
			wantCalls(t, &c, tc.want...)
			assert.Equal(t, []string{"b forward " + saga.IdempotencyKey("t3", "b", saga.PhaseForward)}, asked, "asked")
			log, complete, _ := j.Log("t3")
			if !complete || log.Records[4].Kind != tc.record || log.Records[4].Step != "b" {
				t.Errorf("record after the resolve: %+v (complete %v), want %v of b", log.Records[4], complete, tc.record)
			}
		})
	}
}

func TestRecoverLeavesTheSagaOwingWhenTheResolveHookFails(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t4", "step-started a", "step-done a=A", "step-started b")
	errLookup := errors.New("payments: lookup unavailable")
	var c tripCalls
	s := tripSaga(t, j, &c, nil, func(steps []saga.Step[int]) {
		steps[1] = steps[1].ResolvedBy(func(ctx context.Context, call saga.Call[int]) (bool, any, error) {
			return false, nil, errLookup
		})
	})
	reg, _ := saga.NewRegistry(s)
	res, err := saga.Recover(context.Background(), j, reg)
	require.ErrorIs(t, err, errLookup, "error %v", err)
	require.ErrorIs(t, err, saga.ErrCompensationFailed, "error %v", err)
	se, _ := errors.AsType[*saga.Error](res[0].Err)
	if se == nil || res[0].State.Kind != saga.StateCompensationFailed || !slices.Equal(se.Owed, []string{"b"}) || !errors.Is(se.Cause, saga.ErrInterrupted) {
		t.Errorf("result %+v, want CompensationFailed owing b", res[0])
	}
	wantCalls(t, &c, "undo a(A)")
	if _, complete, _ := j.Log("t4"); complete {
		t.Error("a saga still owing was marked complete")
	}
}

func TestRecoverRerunsAnInterruptedCompensationWithItsKey(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t5", "step-started a", "step-done a=A", "step-started b", "step-done b=B",
		"step-started c", "step-failed c", "compensation-started b")
	var c tripCalls
	mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c, "undo b(B)", "undo a(A)")
	assert.Equal(t, saga.IdempotencyKey("t5", "b", saga.PhaseCompensate), c.keys[0], "key")
	wantComplete(t, j, "t5")
}

func TestRecoverSkipsCompensationsAlreadyDone(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t6", "step-started a", "step-done a=A", "step-started b", "step-done b=B",
		"step-started c", "step-failed c", "compensation-started b", "compensation-done b")
	var c tripCalls
	mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c, "undo a(A)")
}

// A recovery that resolved c's unknown outcome as done journaled c done,
// then undid it, and was interrupted: every step now reads done, but the
// roll-back has begun and must go on.
func TestRecoverGoesOnRollingBackARollBackThatWasInterrupted(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t8", "step-started a", "step-done a=A", "step-started b", "step-done b=B", "step-started c",
		"step-done c=C", "compensation-started c", "compensation-done c")
	var c tripCalls
	res := mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c, "undo b(B)", "undo a(A)")
	if len(res) != 1 || res[0].State.Kind != saga.StateCompensated {
		t.Errorf("result %+v, want Compensated", res)
	}
	wantComplete(t, j, "t8")
}

func TestRecoverOfASagaWhoseStepsAllCompletedReachesDone(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t7", "step-started a", "step-done a=A", "step-started b", "step-done b=B", "step-started c", "step-done c=C")
	var c tripCalls
	res := mustRecover(t, j, tripSaga(t, j, &c, nil, nil))
	wantCalls(t, &c)
	if res[0].State.Kind != saga.StateDone || res[0].Err != nil {
		t.Errorf("result %+v, want Done", res[0])
	}
	wantComplete(t, j, "t7")
}

func TestRecoverFinishesWhatACompensationFailedRunStillOwes(t *testing.T) {
	j := saga.NewMemoryJournal()
	var c tripCalls
	broken := true
	undoErr := func(step string) error {
		if step == "b" && broken {
			return errRefundDown
		}
		return nil
	}
	s := tripSaga(t, j, &c, undoErr, func(steps []saga.Step[int]) {
		steps[2] = saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) {
			return "", errOutOfStock
		}, func(ctx context.Context, call saga.Call[int], out string) error { return nil })
	})
	_, err := s.Run(context.Background(), "t8", 0)
	require.ErrorIs(t, err, saga.ErrCompensationFailed, "run")
	broken = false
	c = tripCalls{}
	res := mustRecover(t, j, s)
	wantCalls(t, &c, "undo b(B)")
	if c.keys[0] != saga.IdempotencyKey("t8", "b", saga.PhaseCompensate) || res[0].State.Kind != saga.StateCompensated {
		t.Errorf("result %+v with keys %q", res[0], c.keys)
	}
	wantComplete(t, j, "t8")
}

func TestRecoverAfterAPanicRollsBack(t *testing.T) {
	j := saga.NewMemoryJournal()
	var c tripCalls
	s := tripSaga(t, j, &c, nil, func(steps []saga.Step[int]) {
		steps[2] = saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) {
			panic("crash in c")
		}, func(ctx context.Context, call saga.Call[int], out string) error {
			c.calls = append(c.calls, "undo c("+out+")")
			return nil
		})
	})
	func() {
		defer func() { recover() }()
		s.Run(context.Background(), "t9", 0)
	}()
	c = tripCalls{}
	res := mustRecover(t, j, s)
	// c had started: without a resolve hook it is undone, with no output.
	wantCalls(t, &c, "undo c()", "undo b(B)", "undo a(A)")
	assert.Equal(t, saga.StateCompensated, res[0].State.Kind, "result")
}

func TestRecoverCallsTheHooksWithTheInterruption(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t10", "step-started a", "step-done a=A")
	var got []string
	cfg := saga.Config{SaveState: true, Journal: j, Compensation: er.CompensationConfig{
		OnCompensationStart: func(id string, cause error) {
			if errors.Is(cause, saga.ErrInterrupted) {
				got = append(got, "start "+id)
			}
		},
		OnCompensationComplete: func(id string, err error) {
			res, _ := errors.AsType[*saga.Error](err)
			got = append(got, "complete "+id+" "+res.State.String())
		},
	}}
	hooked := mustSaga(t, "trip", cfg, []saga.Step[int]{
		saga.NewStep("a", func(ctx context.Context, call saga.Call[int]) (string, error) { return "A", nil },
			func(ctx context.Context, call saga.Call[int], out string) error { return nil }),
		saga.NewStep("b", func(ctx context.Context, call saga.Call[int]) (string, error) { return "B", nil }, nil),
		saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) { return "C", nil }, nil),
	})
	mustRecover(t, j, hooked)
	assert.Equal(t, []string{"start t10", "complete t10 Compensated"}, got, "hooks")
}

func TestRecoverRefusesSagasItCannotMatch(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t11", "step-started a", "step-done a=A")
	var c tripCalls
	other := mustSaga(t, "other", saga.Config{}, []saga.Step[int]{
		saga.NewStep("x", func(ctx context.Context, call saga.Call[int]) (int, error) { return 0, nil }, nil),
	})
	reg, _ := saga.NewRegistry(other)
	res, err := saga.Recover(context.Background(), j, reg)
	if !errors.Is(err, saga.ErrUnregistered) || len(res) != 1 || res[0].State.Kind != saga.StateStart {
		t.Errorf("no saga named trip: %v, %+v", err, res)
	}
	renamed := mustSaga(t, "trip", saga.Config{}, []saga.Step[int]{
		saga.NewStep("a", func(ctx context.Context, call saga.Call[int]) (int, error) { return 0, nil }, nil),
		saga.NewStep("b2", func(ctx context.Context, call saga.Call[int]) (int, error) { return 0, nil }, nil),
	})
	reg, _ = saga.NewRegistry(renamed)
	if _, err := saga.Recover(context.Background(), j, reg); !errors.Is(err, saga.ErrUnregistered) {
		t.Errorf("steps differ: %v, want ErrUnregistered", err)
	}
	wantCalls(t, &c)
	if logs, _ := j.Incomplete(context.Background()); len(logs) != 1 {
		t.Errorf("the saga should stay in the journal: %d incomplete", len(logs))
	}
}

func TestRecoverRefusesALogNoRunCouldWrite(t *testing.T) {
	cases := map[string][]string{
		"done before started":      {"step-done a=A"},
		"second step before first": {"step-started b"},
		"unknown step":             {"step-started z"},
		"undone without starting":  {"step-started a", "step-done a=A", "compensation-done a"},
		"started twice":            {"step-started a", "step-started a"},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			j := saga.NewMemoryJournal()
			journalOf(t, j, "bad", entries...)
			var c tripCalls
			reg, _ := saga.NewRegistry(tripSaga(t, j, &c, nil, nil))
			res, err := saga.Recover(context.Background(), j, reg)
			if ce, ok := errors.AsType[*saga.CorruptJournalError](err); !ok || ce.SagaID != "bad" || !errors.Is(err, saga.ErrCorruptJournal) {
				t.Errorf("error %v, want a *CorruptJournalError for saga bad", err)
			}
			if len(res) != 1 || len(c.calls) != 0 {
				t.Errorf("result %+v, calls %q: want nothing run", res, c.calls)
			}
		})
	}
}

func TestSagaRegistryRefusesNilAndDuplicates(t *testing.T) {
	var c tripCalls
	s := tripSaga(t, saga.NewMemoryJournal(), &c, nil, nil)
	if _, err := saga.NewRegistry(s, s); err == nil {
		t.Error("two sagas named trip: want an error")
	}
	if _, err := saga.NewRegistry(nil); err == nil {
		t.Error("a nil saga: want an error")
	}
}

func TestMemoryJournalRefusesUnknownAndDuplicateSagas(t *testing.T) {
	ctx := context.Background()
	j := saga.NewMemoryJournal()
	assert.ErrorIs(t, j.Append(ctx, saga.Record{SagaID: "x", Kind: saga.RecordStepStarted, Step: "a"}), saga.ErrNotFound, "record before saga-begun")
	assert.ErrorIs(t, j.Complete(ctx, "x"), saga.ErrNotFound, "complete of an unknown saga")
	begun := saga.Record{SagaID: "x", Kind: saga.RecordBegun, Saga: "s"}
	require.NoError(t, j.Append(ctx, begun))
	assert.ErrorIs(t, j.Append(ctx, begun), saga.ErrExists, "second saga-begun")
}

func TestJournalKindText(t *testing.T) {
	for k := saga.RecordBegun; k <= saga.RecordCompensationFailed; k++ {
		b, err := k.MarshalText()
		var back saga.RecordKind
		if err != nil || back.UnmarshalText(b) != nil || back != k {
			t.Errorf("%v does not round-trip: %s, %v", k, b, err)
		}
	}
	var k saga.RecordKind
	if _, err := k.MarshalText(); err == nil {
		t.Error("the zero kind marshals")
	}
	assert.Error(t, k.UnmarshalText([]byte("step-exploded")), "an unknown name parses")
}

func TestSchemaErrorNamesWhatTheDatabaseSays(t *testing.T) {
	driver := errors.New("file is not a database")
	for _, c := range []struct {
		err  *saga.SchemaError
		want string
	}{
		{&saga.SchemaError{Journal: "sqlitejournal", Path: "j.db", Reason: "not a SQLite database", Err: driver},
			`sqlitejournal: "j.db": refused: not a SQLite database: file is not a database`},
		{&saga.SchemaError{Journal: "pgjournal", Schema: "acme", Reason: "another schema"},
			`pgjournal: refused: another schema (schema "acme")`},
		{&saga.SchemaError{Journal: "sqlitejournal", Schema: "statecraft.saga-journal", Version: 3, Newer: true, Reason: "written by a newer version of statecraft"},
			`sqlitejournal: refused: written by a newer version of statecraft (schema "statecraft.saga-journal" version 3)`},
	} {
		assert.Equal(t, c.want, c.err.Error(), "Error()")
	}
}

func TestSchemaErrorMatchesForeignOrNewer(t *testing.T) {
	driver := errors.New("file is not a database")
	foreign := error(&saga.SchemaError{Journal: "sqlitejournal", Reason: "not a SQLite database", Err: driver})
	if !errors.Is(foreign, saga.ErrForeignJournal) || errors.Is(foreign, saga.ErrNewerJournal) || !errors.Is(foreign, driver) {
		t.Errorf("%v: want it to match ErrForeignJournal and the driver's error, not ErrNewerJournal", foreign)
	}
	newer := error(&saga.SchemaError{Journal: "pgjournal", Version: 3, Newer: true, Reason: "migrated by a newer version of statecraft"})
	if !errors.Is(newer, saga.ErrNewerJournal) || errors.Is(newer, saga.ErrForeignJournal) {
		t.Errorf("%v: want it to match ErrNewerJournal, not ErrForeignJournal", newer)
	}
}
