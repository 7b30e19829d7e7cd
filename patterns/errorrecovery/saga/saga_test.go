package saga_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// order is the saga state of the seed's order example.
type order struct {
	Customer    string `json:"customer"`
	Amount      int    `json:"amount"`
	Reservation string `json:"reservation,omitempty"`
}

// sagaLedger records every call an action makes and the effects that took
// place, keyed by idempotency key: an effect happens once per key, as the
// idempotent services a saga calls would make it.
type sagaLedger struct {
	mu      sync.Mutex
	calls   []string       // "step/phase" in call order
	keys    map[string]int // calls per key
	effects map[string]int // effects per key (at most 1 by construction of apply)
}

func newLedger() *sagaLedger {
	return &sagaLedger{keys: map[string]int{}, effects: map[string]int{}}
}

// apply records a call of an action with key and makes its effect happen,
// once per key.
func (l *sagaLedger) apply(c saga.Call[order]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c.Step+"/"+c.Phase.String())
	l.keys[c.Key]++
	if l.effects[c.Key] == 0 {
		l.effects[c.Key] = 1
	}
}

func (l *sagaLedger) callLog() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

var (
	errOutOfStock   = errors.New("shipping: address not served")
	errRefundDown   = errors.New("payments: refund service down")
	errReleaseStuck = errors.New("inventory: release failed")
)

// orderSteps builds the seed's three steps; fail names the step whose
// action fails (with errOutOfStock), undoFail maps steps to the error of
// their compensation.
func orderSteps(l *sagaLedger, fail string, undoFail map[string]error) []saga.Step[order] {
	act := func(name, out string) func(context.Context, saga.Call[order]) (string, error) {
		return func(ctx context.Context, c saga.Call[order]) (string, error) {
			if name == fail {
				l.mu.Lock()
				l.calls = append(l.calls, c.Step+"/"+c.Phase.String())
				l.mu.Unlock()
				return "", errOutOfStock
			}
			l.apply(c)
			if name == "reserve inventory" {
				c.State.Reservation = out
			}
			return out, nil
		}
	}
	undo := func(name, wantOut string) func(context.Context, saga.Call[order], string) error {
		return func(ctx context.Context, c saga.Call[order], out string) error {
			if out != wantOut {
				return fmt.Errorf("%s: got output %q, want %q", name, out, wantOut)
			}
			if err := undoFail[name]; err != nil {
				l.mu.Lock()
				l.calls = append(l.calls, c.Step+"/"+c.Phase.String())
				l.mu.Unlock()
				return err
			}
			l.apply(c)
			return nil
		}
	}
	return []saga.Step[order]{
		saga.NewStep("reserve inventory", act("reserve inventory", "res-1"), undo("reserve inventory", "res-1")),
		saga.NewStep("charge payment", act("charge payment", "pay-7"), undo("charge payment", "pay-7")),
		saga.NewStep("create shipment", act("create shipment", "ship-3"), undo("create shipment", "ship-3")),
	}
}

func mustSaga[T any](t *testing.T, name string, cfg saga.Config, steps []saga.Step[T], opts ...engine.Option) *saga.Saga[T] {
	t.Helper()
	s, err := saga.New(name, cfg, steps, opts...)
	require.NoError(t, err)
	return s
}

func TestSagaOrderExampleRefundsPaymentThenReleasesInventory(t *testing.T) {
	l := newLedger()
	var hooks []string
	cfg := saga.DefaultConfig()
	cfg.Compensation.OnCompensationStart = func(id string, cause error) {
		hooks = append(hooks, "start "+id+" "+fmt.Sprint(errors.Is(cause, errOutOfStock)))
	}
	cfg.Compensation.OnCompensationComplete = func(id string, err error) {
		res, _ := errors.AsType[*saga.Error](err)
		hooks = append(hooks, "complete "+id+" "+res.State.String())
	}
	s := mustSaga(t, "order", cfg, orderSteps(l, "create shipment", nil))
	got, err := s.Run(context.Background(), "order-42", order{Customer: "ada", Amount: 1200})

	want := []string{
		"reserve inventory/forward", "charge payment/forward", "create shipment/forward",
		"charge payment/compensate", "reserve inventory/compensate",
	}
	if calls := l.callLog(); !slices.Equal(calls, want) {
		t.Errorf("calls:\n got %q\nwant %q", calls, want)
	}
	if !errors.Is(err, errOutOfStock) || !errors.Is(err, saga.ErrFailed) || errors.Is(err, saga.ErrCompensationFailed) {
		t.Errorf("error %v: want a saga failure matching the shipment's error, compensations clean", err)
	}
	se, ok := errors.AsType[*saga.Error](err)
	require.True(t, ok, "error %#v", err)
	require.Equal(t, saga.StateCompensated, se.State.Kind, "error %#v", err)
	require.Empty(t, se.Owed, "error %#v", err)
	require.Equal(t, "order", se.Saga, "error %#v", err)
	require.Equal(t, "order-42", se.ID, "error %#v", err)
	step, ok := errors.AsType[*saga.StepError](err)
	if !ok || step.Step != "create shipment" || step.Phase != saga.PhaseForward || step.Key != saga.IdempotencyKey("order-42", "create shipment", saga.PhaseForward) {
		t.Errorf("step error %#v: want create shipment, forward, with its key", step)
	}
	assert.Equal(t, "res-1", got.Reservation, "state after the run: the reservation the first step recorded")
	assert.Equal(t, []string{"start order-42 true", "complete order-42 Compensated"}, hooks, "hooks")
}

func TestSagaSucceedsWithoutCompensating(t *testing.T) {
	l := newLedger()
	started := false
	cfg := saga.DefaultConfig()
	cfg.Compensation.OnCompensationStart = func(string, error) { started = true }
	s := mustSaga(t, "order", cfg, orderSteps(l, "", nil))
	got, err := s.Run(context.Background(), "order-1", order{Amount: 5})
	require.NoError(t, err)
	assert.Equal(t, []string{"reserve inventory/forward", "charge payment/forward", "create shipment/forward"}, l.callLog(), "calls")
	if started || got.Reservation != "res-1" || got.Amount != 5 {
		t.Errorf("compensation started %v, state %+v", started, got)
	}
}

func TestSagaCompensatesInReverseOrderOfTheStepsThatTookEffect(t *testing.T) {
	for _, failAt := range []int{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("step %d fails", failAt), func(t *testing.T) {
			var calls []string
			var steps []saga.Step[int]
			for i := 1; i <= 5; i++ {
				name := fmt.Sprintf("s%d", i)
				steps = append(steps, saga.NewStep(name,
					func(ctx context.Context, c saga.Call[int]) (int, error) {
						calls = append(calls, "do "+c.Step)
						if i == failAt {
							return 0, errFlaky
						}
						return i * 10, nil
					},
					func(ctx context.Context, c saga.Call[int], out int) error {
						calls = append(calls, fmt.Sprintf("undo %s(%d)", c.Step, out))
						return nil
					}))
			}
			s := mustSaga(t, "five", saga.Config{}, steps)
			_, err := s.Run(context.Background(), "r", 0)
			var want []string
			for i := 1; i <= failAt; i++ {
				want = append(want, fmt.Sprintf("do s%d", i))
			}
			for i := failAt - 1; i >= 1; i-- {
				want = append(want, fmt.Sprintf("undo s%d(%d)", i, i*10))
			}
			assert.Equal(t, want, calls, "calls")
			assert.ErrorIs(t, err, errFlaky, "error")
		})
	}
}

func TestSagaAttemptsEveryCompensationWhenOneFails(t *testing.T) {
	l := newLedger()
	var completed error
	cfg := saga.Config{Compensation: er.CompensationConfig{OnCompensationComplete: func(_ string, err error) { completed = err }}}
	s := mustSaga(t, "order", cfg, orderSteps(l, "create shipment", map[string]error{"charge payment": errRefundDown}))
	_, err := s.Run(context.Background(), "order-9", order{})

	if want := []string{
		"reserve inventory/forward", "charge payment/forward", "create shipment/forward",
		"charge payment/compensate", "reserve inventory/compensate",
	}; !slices.Equal(l.callLog(), want) {
		t.Errorf("calls %q, want %q", l.callLog(), want)
	}
	for _, target := range []error{errOutOfStock, errRefundDown, saga.ErrCompensationFailed, saga.ErrFailed} {
		assert.ErrorIs(t, err, target)
	}
	se, _ := errors.AsType[*saga.Error](err)
	if se == nil || se.State.Kind != saga.StateCompensationFailed || !slices.Equal(se.Owed, []string{"charge payment"}) {
		t.Fatalf("error %#v: want CompensationFailed owing the payment", err)
	}
	if len(se.Compensations) != 1 || se.Compensations[0].Step != "charge payment" || se.Compensations[0].Phase != saga.PhaseCompensate {
		t.Errorf("compensation errors %v", se.Compensations)
	}
	assert.Equal(t, error(se), completed, "OnCompensationComplete")
}

func TestSagaAllCompensationsFailingAreAllReported(t *testing.T) {
	l := newLedger()
	s := mustSaga(t, "order", saga.Config{}, orderSteps(l, "create shipment",
		map[string]error{"charge payment": errRefundDown, "reserve inventory": errReleaseStuck}))
	_, err := s.Run(context.Background(), "order-10", order{})
	se, _ := errors.AsType[*saga.Error](err)
	if se == nil || !slices.Equal(se.Owed, []string{"charge payment", "reserve inventory"}) ||
		!errors.Is(err, errRefundDown) || !errors.Is(err, errReleaseStuck) {
		t.Fatalf("error %v: want both compensation failures and both owed", err)
	}
}

func TestSagaTimeoutDuringAStepCompensatesTheStepsBefore(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var calls []string
	waiting := make(chan struct{})
	steps := []saga.Step[int]{
		saga.NewStep("book", func(ctx context.Context, c saga.Call[int]) (string, error) {
			calls = append(calls, "book")
			return "b1", nil
		}, func(ctx context.Context, c saga.Call[int], out string) error {
			calls = append(calls, "cancel "+out)
			if ctx.Err() != nil {
				return ctx.Err() // compensations do not share the saga's deadline
			}
			return nil
		}),
		saga.NewStep("wait for approval", func(ctx context.Context, c saga.Call[int]) (bool, error) {
			calls = append(calls, "wait")
			close(waiting)
			<-ctx.Done() // released by the saga timeout on the manual clock
			return false, ctx.Err()
		}, nil),
	}
	cfg := saga.Config{Timeout: 30 * time.Second}
	s := mustSaga(t, "booking", cfg, steps, engine.WithClock(clk))
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), "b", 0)
		done <- err
	}()
	<-waiting
	clk.Advance(29 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("saga ended before its timeout: %v", err)
	default:
	}
	clk.Advance(time.Second)
	err := <-done
	require.ErrorIs(t, err, saga.ErrTimeout, "error %v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded, "error %v", err)
	require.ErrorIs(t, err, saga.ErrFailed, "error %v", err)
	te, _ := errors.AsType[*saga.TimeoutError](err)
	if te == nil || te.Step != "wait for approval" || te.Timeout != 30*time.Second {
		t.Errorf("timeout error %#v", te)
	}
	assert.Equal(t, []string{"book", "wait", "cancel b1"}, calls, "calls")
}

func TestSagaTimeoutStopsTheNextStepFromStarting(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var calls []string
	step := func(name string, advance time.Duration) saga.Step[int] {
		return saga.NewStep(name, func(ctx context.Context, c saga.Call[int]) (int, error) {
			calls = append(calls, name)
			clk.Advance(advance)
			return 0, nil
		}, func(ctx context.Context, c saga.Call[int], _ int) error {
			calls = append(calls, "undo "+name)
			return nil
		})
	}
	cfg := saga.Config{Timeout: time.Minute}
	s := mustSaga(t, "slow", cfg, []saga.Step[int]{step("a", 10*time.Second), step("b", time.Minute), step("c", 0)}, engine.WithClock(clk))
	_, err := s.Run(context.Background(), "x", 0)
	te, _ := errors.AsType[*saga.TimeoutError](err)
	require.NotNil(t, te, "error %v", err)
	require.Equal(t, "c", te.Step, "error %v", err)
	require.NoError(t, te.Err, "error %v", err)
	assert.Equal(t, []string{"a", "b", "undo b", "undo a"}, calls, "calls")
}

// A zero Config.Timeout means the default, 300s; None means none.
func TestSagaZeroTimeoutIsTheDefaultAndNoneIsNone(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration // the timeout reported, zero for none
	}{{"zero", 0, 300 * time.Second}, {"none", er.None, 0}} {
		t.Run(c.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			step := func(name string) saga.Step[int] {
				return saga.NewStep(name, func(ctx context.Context, _ saga.Call[int]) (int, error) {
					clk.Advance(6 * time.Minute)
					return 0, nil
				}, nil)
			}
			s := mustSaga(t, "slow", saga.Config{Timeout: c.timeout}, []saga.Step[int]{step("a"), step("b")}, engine.WithClock(clk))
			_, err := s.Run(context.Background(), "x", 0)
			te, _ := errors.AsType[*saga.TimeoutError](err)
			switch {
			case c.want == 0 && err != nil:
				t.Fatalf("no timeout: %v", err)
			case c.want > 0 && (te == nil || te.Timeout != c.want || te.Step != "b"):
				t.Fatalf("error %v: want a timeout of %v before step b", err, c.want)
			}
		})
	}
}

func TestSagaCancelledCallerStillGetsRolledBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls []string
	steps := []saga.Step[int]{
		saga.NewStep("a", func(ctx context.Context, c saga.Call[int]) (int, error) {
			calls = append(calls, "a")
			cancel() // the caller gives up while the saga runs
			return 1, nil
		}, func(ctx context.Context, c saga.Call[int], _ int) error {
			calls = append(calls, "undo a")
			return ctx.Err()
		}),
		saga.NewStep("b", func(ctx context.Context, c saga.Call[int]) (int, error) {
			calls = append(calls, "b")
			return 2, nil
		}, nil),
	}
	s := mustSaga(t, "c", saga.Config{}, steps)
	_, err := s.Run(ctx, "x", 0)
	assert.ErrorIs(t, err, context.Canceled, "error")
	if se, _ := errors.AsType[*saga.Error](err); se == nil || se.State.Kind != saga.StateCompensated {
		t.Errorf("error %v: want Compensated", err)
	}
	assert.Equal(t, []string{"a", "undo a"}, calls, "calls")
}

func TestSagaIdempotencyKeys(t *testing.T) {
	k := saga.IdempotencyKey("order-42", "charge payment", saga.PhaseForward)
	if len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("key %q: want 32 lowercase hex digits", k)
	}
	assert.Equal(t, saga.IdempotencyKey("order-42", "charge payment", saga.PhaseForward), k, "the same inputs gave different keys")
	others := []string{
		saga.IdempotencyKey("order-42", "charge payment", saga.PhaseCompensate),
		saga.IdempotencyKey("order-43", "charge payment", saga.PhaseForward),
		saga.IdempotencyKey("order-42", "charge paymen", saga.PhaseForward),
		saga.IdempotencyKey("order-4", "2charge payment", saga.PhaseForward),
	}
	for _, o := range others {
		if o == k {
			t.Errorf("key collision: %q", o)
		}
	}
}

func TestSagaStepProtectedByRetryKeepsItsKey(t *testing.T) {
	var keys []string
	retry := mustRetry(t, retryCfg(3, er.BackoffFixed, er.None))
	steps := []saga.Step[int]{
		saga.NewStep("flaky", func(ctx context.Context, c saga.Call[int]) (int, error) {
			keys = append(keys, c.Key)
			if n, _ := er.AttemptFromContext(ctx); n < 3 {
				return 0, errFlaky
			}
			return 7, nil
		}, nil).ProtectedBy(retry),
	}
	s := mustSaga(t, "retried", saga.Config{}, steps)
	if _, err := s.Run(context.Background(), "id", 0); err != nil {
		t.Fatal(err)
	}
	want := saga.IdempotencyKey("id", "flaky", saga.PhaseForward)
	if !slices.Equal(keys, []string{want, want, want}) {
		t.Errorf("keys %q: want three attempts with key %q", keys, want)
	}
}

func TestSagaCompensationRetryRetriesAFailingCompensation(t *testing.T) {
	undos := 0
	steps := []saga.Step[int]{
		saga.NewStep("a", func(ctx context.Context, c saga.Call[int]) (int, error) { return 1, nil },
			func(ctx context.Context, c saga.Call[int], _ int) error {
				if undos++; undos < 2 {
					return errFlaky
				}
				return nil
			}),
		saga.NewStep("b", func(ctx context.Context, c saga.Call[int]) (int, error) { return 0, errOutOfStock }, nil),
	}
	cfg := saga.Config{Compensation: er.CompensationConfig{CompensationRetry: mustRetry(t, retryCfg(3, er.BackoffFixed, er.None))}}
	s := mustSaga(t, "r", cfg, steps)
	_, err := s.Run(context.Background(), "x", 0)
	if se, _ := errors.AsType[*saga.Error](err); se == nil || se.State.Kind != saga.StateCompensated || undos != 2 {
		t.Errorf("error %v after %d compensation attempts: want Compensated after 2", err, undos)
	}
}

func TestSagaDeadlineWorkflowProtectsAStep(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	dl, err := er.NewDeadline[struct{}](er.DeadlineConfig{Timeout: time.Second}, engine.WithClock(clk))
	require.NoError(t, err)
	steps := []saga.Step[int]{
		saga.NewStep("slow", func(ctx context.Context, c saga.Call[int]) (int, error) {
			clk.Advance(2 * time.Second)
			return 0, ctx.Err()
		}, nil).ProtectedBy(dl),
	}
	s := mustSaga(t, "d", saga.Config{}, steps, engine.WithClock(clk))
	_, err = s.Run(context.Background(), "x", 0)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, saga.ErrTimeout) {
		t.Errorf("error %v: want the step's own deadline, not the saga's", err)
	}
}

func TestSagaUntypedCompensationActionsByStepName(t *testing.T) {
	var got er.Compensation
	steps := []saga.Step[order]{
		saga.NewStep("charge payment", func(ctx context.Context, c saga.Call[order]) (map[string]string, error) {
			return map[string]string{"payment_id": "pay-1"}, nil
		}, nil),
		saga.NewStep("ship", func(ctx context.Context, c saga.Call[order]) (int, error) { return 0, errOutOfStock }, nil),
	}
	cfg := saga.Config{Compensation: er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{
		"charge payment": func(ctx context.Context, c er.Compensation) error {
			got = c
			return nil
		},
	}}}
	s := mustSaga(t, "order", cfg, steps)
	if _, err := s.Run(context.Background(), "o1", order{Customer: "bo"}); !errors.Is(err, errOutOfStock) {
		t.Fatal(err)
	}
	if got.Step != "charge payment" || string(got.Output) != `{"payment_id":"pay-1"}` ||
		string(got.State) != `{"customer":"bo","amount":0}` || got.Key != saga.IdempotencyKey("o1", "charge payment", saga.PhaseCompensate) {
		t.Errorf("compensation got %+v (output %s, state %s)", got, got.Output, got.State)
	}
}

func TestSagaJournalsBeforeAndAfterEachEffect(t *testing.T) {
	l := newLedger()
	j := saga.NewMemoryJournal()
	cfg := saga.Config{SaveState: true, Journal: j}
	s := mustSaga(t, "order", cfg, orderSteps(l, "create shipment", nil))
	if _, err := s.Run(context.Background(), "o7", order{Customer: "cy"}); !errors.Is(err, errOutOfStock) {
		t.Fatal(err)
	}
	log, complete, ok := j.Log("o7")
	require.True(t, ok, "journal holds o7")
	require.True(t, complete, "journal holds o7")
	var got []string
	for _, r := range log.Records {
		got = append(got, strings.TrimSpace(r.Kind.String()+" "+r.Step))
	}
	want := []string{
		"saga-begun",
		"step-started reserve inventory", "step-done reserve inventory",
		"step-started charge payment", "step-done charge payment",
		"step-started create shipment", "step-failed create shipment",
		"compensation-started charge payment", "compensation-done charge payment",
		"compensation-started reserve inventory", "compensation-done reserve inventory",
	}
	assert.Equal(t, want, got, "records")
	if r := log.Records[2]; string(r.Output) != `"res-1"` || !strings.Contains(string(r.State), `"reservation":"res-1"`) {
		t.Errorf("step-done record: output %s, state %s", r.Output, r.State)
	}
	if r := log.Records[1]; r.Key != saga.IdempotencyKey("o7", "reserve inventory", saga.PhaseForward) || r.Seq != 2 {
		t.Errorf("step-started record %+v", r)
	}
	if logs, _ := j.Incomplete(context.Background()); len(logs) != 0 {
		t.Errorf("incomplete sagas after a compensated run: %v", logs)
	}
}

func TestSagaRunWithAnIDTheJournalHoldsRunsNothing(t *testing.T) {
	l := newLedger()
	j := saga.NewMemoryJournal()
	s := mustSaga(t, "order", saga.Config{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	if _, err := s.Run(context.Background(), "dup", order{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Run(context.Background(), "dup", order{})
	require.ErrorIs(t, err, saga.ErrExists, "error")
	if je, _ := errors.AsType[*saga.JournalError](err); je == nil || je.Op != "saga-begun" || je.ID != "dup" {
		t.Errorf("error %#v: want a *JournalError for the first record", err)
	}
	assert.Len(t, l.callLog(), 3, "calls")
}

// failingJournal wraps a journal and fails appends of one kind.
type failingJournal struct {
	saga.Journal
	kind saga.RecordKind
	step string
}

var errDiskFull = errors.New("disk full")

func (f failingJournal) Append(ctx context.Context, rec saga.Record) error {
	if rec.Kind == f.kind && rec.Step == f.step {
		return errDiskFull
	}
	return f.Journal.Append(ctx, rec)
}

func TestSagaStepWhoseOutcomeCannotBeJournaledIsCompensatedToo(t *testing.T) {
	l := newLedger()
	j := failingJournal{Journal: saga.NewMemoryJournal(), kind: saga.RecordStepDone, step: "charge payment"}
	s := mustSaga(t, "order", saga.Config{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	_, err := s.Run(context.Background(), "o", order{})
	require.ErrorIs(t, err, errDiskFull, "error")
	want := []string{"reserve inventory/forward", "charge payment/forward", "charge payment/compensate", "reserve inventory/compensate"}
	assert.Equal(t, want, l.callLog(), "calls")
}

func TestSagaStepNotStartedWhenTheJournalRefusesItsRecord(t *testing.T) {
	l := newLedger()
	j := failingJournal{Journal: saga.NewMemoryJournal(), kind: saga.RecordStepStarted, step: "charge payment"}
	s := mustSaga(t, "order", saga.Config{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	_, err := s.Run(context.Background(), "o", order{})
	if je, _ := errors.AsType[*saga.JournalError](err); je == nil || je.Step != "charge payment" || je.Op != "step-started" {
		t.Fatalf("error %v, want the journal error of charge payment", err)
	}
	want := []string{"reserve inventory/forward", "reserve inventory/compensate"}
	assert.Equal(t, want, l.callLog(), "calls")
}

func TestSagaPanicIsReRaisedAndTheSagaLeftForRecover(t *testing.T) {
	j := saga.NewMemoryJournal()
	steps := []saga.Step[int]{
		saga.NewStep("a", func(ctx context.Context, c saga.Call[int]) (int, error) { return 1, nil },
			func(ctx context.Context, c saga.Call[int], _ int) error { return nil }),
		saga.NewStep("b", func(ctx context.Context, c saga.Call[int]) (int, error) { panic("bug in b") }, nil),
	}
	s := mustSaga(t, "p", saga.Config{SaveState: true, Journal: j}, steps)
	func() {
		defer func() {
			assert.Equal(t, "bug in b", recover(), "recovered")
		}()
		s.Run(context.Background(), "x", 0)
		t.Error("Run returned")
	}()
	logs, _ := j.Incomplete(context.Background())
	if len(logs) != 1 || logs[0].Records[len(logs[0].Records)-1].Kind != saga.RecordStepStarted {
		t.Errorf("journal after the panic: %+v, want the saga with b started", logs)
	}
}

func TestSagaTraceFollowsTheDefinition(t *testing.T) {
	var rec enginetest.Recorder
	l := newLedger()
	s := mustSaga(t, "order", saga.Config{}, orderSteps(l, "create shipment", nil), engine.WithObserver(&rec))
	s.Run(context.Background(), "t", order{})
	enginetest.AssertPath(t, &rec, "Start", "Step1", "Step2", "Step3", "Compensating2", "Compensating1", "Compensated")
	var events []string
	for _, r := range rec.Records {
		events = append(events, r.Event)
	}
	assert.Equal(t, []string{"begin", "done", "done", "failed", "undone", "undone"}, events, "events")
}

func TestSagaMachineDiagram(t *testing.T) {
	l := newLedger()
	steps := orderSteps(l, "", nil)
	s := mustSaga(t, "order", saga.Config{SaveState: true, Journal: saga.NewMemoryJournal()}, steps)
	checkMachine(t, "saga", s.Definition().Dot(), s.Definition().Mermaid())
}

func TestSagaWithoutCompensationsHasNoCompensationFailedState(t *testing.T) {
	steps := []saga.Step[int]{
		saga.NewStep("notify", func(ctx context.Context, c saga.Call[int]) (int, error) { return 0, errFlaky }, nil),
	}
	s := mustSaga(t, "n", saga.Config{}, steps)
	assert.Equal(t, "[Start Step1 Done Compensated]", fmt.Sprint(s.Definition().States()), "states")
	_, err := s.Run(context.Background(), "x", 0)
	if se, _ := errors.AsType[*saga.Error](err); se == nil || se.State.Kind != saga.StateCompensated {
		t.Errorf("error %v, want Compensated", err)
	}
}

func TestInvalidSagaConfigNamesTheField(t *testing.T) {
	ok := func(ctx context.Context, c saga.Call[int]) (int, error) { return 0, nil }
	undo := func(ctx context.Context, c saga.Call[int], _ int) error { return nil }
	step := saga.NewStep("a", ok, undo)
	cases := []struct {
		name   string
		saga   string
		cfg    saga.Config
		steps  []saga.Step[int]
		opts   []engine.Option
		config string
		field  string
	}{
		{"timeout over 7 days", "s", saga.Config{Timeout: 169 * time.Hour}, []saga.Step[int]{step}, nil, "saga.Config", "Timeout"},
		{"timeout past its bound", "s", saga.Config{Timeout: 169 * time.Hour}, []saga.Step[int]{step}, nil, "saga.Config", "Timeout"},
		{"save state without journal", "s", saga.Config{SaveState: true}, []saga.Step[int]{step}, nil, "saga.Config", "Journal"},
		{"journal without save state", "s", saga.Config{Journal: saga.NewMemoryJournal()}, []saga.Step[int]{step}, nil, "saga.Config", "SaveState"},
		{"nil untyped compensation", "s", saga.Config{Compensation: er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"a": nil}}}, []saga.Step[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"untyped compensation for no step", "s", saga.Config{Compensation: er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"zz": func(context.Context, er.Compensation) error { return nil }}}}, []saga.Step[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"two compensations for a step", "s", saga.Config{Compensation: er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"a": func(context.Context, er.Compensation) error { return nil }}}}, []saga.Step[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"no name", "", saga.Config{}, []saga.Step[int]{step}, nil, "Saga", "name"},
		{"no steps", "s", saga.Config{}, nil, nil, "Saga", "steps"},
		{"unnamed step", "s", saga.Config{}, []saga.Step[int]{step, saga.NewStep("", ok, undo)}, nil, "Saga", "steps[1]"},
		{"duplicate step", "s", saga.Config{}, []saga.Step[int]{step, step}, nil, "Saga", "steps[1]"},
		{"step without action", "s", saga.Config{}, []saga.Step[int]{saga.NewStep[int, int]("b", nil, undo)}, nil, "Saga", "steps[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := saga.New(tc.saga, tc.cfg, tc.steps, tc.opts...)
			ce, ok := errors.AsType[*er.ConfigError](err)
			if !ok || ce.Config != tc.config || ce.Field != tc.field {
				t.Errorf("got %v, want a *ConfigError naming %s.%s", err, tc.config, tc.field)
			}
		})
	}
	s := mustSaga(t, "s", saga.Config{}, []saga.Step[int]{step})
	if _, err := s.Run(context.Background(), "", 0); err == nil {
		t.Error("Run with an empty id: want an error")
	}
}

func TestDefaultConfig(t *testing.T) {
	c := saga.DefaultConfig()
	if c.Timeout != 300*time.Second || c.SaveState || c.Journal != nil || c.Compensation.CompensationRetry != nil {
		t.Errorf("defaults %+v", c)
	}
	assert.NoError(t, c.Validate())
}

func TestSagaStateAndEventNames(t *testing.T) {
	for s, want := range map[saga.State]string{
		{}: "Start", {Kind: saga.StateForward, Step: 2}: "Step2", {Kind: saga.StateCompensating, Step: 1}: "Compensating1",
		{Kind: saga.StateDone}: "Done", {Kind: saga.StateCompensated}: "Compensated", {Kind: saga.StateCompensationFailed}: "CompensationFailed",
	} {
		assert.Equal(t, want, s.String(), "%#v", s)
	}
	if saga.EventUndoFailed.String() != "undo failed" || saga.PhaseCompensate.String() != "compensate" {
		t.Error("event or phase names changed")
	}
}
