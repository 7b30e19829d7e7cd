package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
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
func (l *sagaLedger) apply(c er.SagaCall[order]) {
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
func orderSteps(l *sagaLedger, fail string, undoFail map[string]error) []er.SagaStep[order] {
	act := func(name, out string) func(context.Context, er.SagaCall[order]) (string, error) {
		return func(ctx context.Context, c er.SagaCall[order]) (string, error) {
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
	undo := func(name, wantOut string) func(context.Context, er.SagaCall[order], string) error {
		return func(ctx context.Context, c er.SagaCall[order], out string) error {
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
	return []er.SagaStep[order]{
		er.NewSagaStep("reserve inventory", act("reserve inventory", "res-1"), undo("reserve inventory", "res-1")),
		er.NewSagaStep("charge payment", act("charge payment", "pay-7"), undo("charge payment", "pay-7")),
		er.NewSagaStep("create shipment", act("create shipment", "ship-3"), undo("create shipment", "ship-3")),
	}
}

func mustSaga[T any](t *testing.T, name string, cfg er.CompensationConfig, steps []er.SagaStep[T], opts ...er.ExecutorOption) *er.Saga[T] {
	t.Helper()
	s, err := er.NewSaga(name, cfg, steps, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSagaOrderExampleRefundsPaymentThenReleasesInventory(t *testing.T) {
	l := newLedger()
	var hooks []string
	cfg := er.DefaultCompensationConfig()
	cfg.OnCompensationStart = func(id string, cause error) {
		hooks = append(hooks, "start "+id+" "+fmt.Sprint(errors.Is(cause, errOutOfStock)))
	}
	cfg.OnCompensationComplete = func(id string, res *er.SagaError) {
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
	if !errors.Is(err, errOutOfStock) || !errors.Is(err, er.ErrSagaFailed) || errors.Is(err, er.ErrCompensationFailed) {
		t.Errorf("error %v: want a saga failure matching the shipment's error, compensations clean", err)
	}
	se, ok := errors.AsType[*er.SagaError](err)
	if !ok || se.State.Kind != er.SagaCompensated || len(se.Owed) != 0 || se.Saga != "order" || se.ID != "order-42" {
		t.Fatalf("error %#v: want a *SagaError in Compensated owing nothing", err)
	}
	step, ok := errors.AsType[*er.SagaStepError](err)
	if !ok || step.Step != "create shipment" || step.Phase != er.SagaPhaseForward || step.Key != er.IdempotencyKey("order-42", "create shipment", er.SagaPhaseForward) {
		t.Errorf("step error %#v: want create shipment, forward, with its key", step)
	}
	if got.Reservation != "res-1" {
		t.Errorf("state after the run: %+v, want the reservation the first step recorded", got)
	}
	if want := []string{"start order-42 true", "complete order-42 Compensated"}; !slices.Equal(hooks, want) {
		t.Errorf("hooks %q, want %q", hooks, want)
	}
}

func TestSagaSucceedsWithoutCompensating(t *testing.T) {
	l := newLedger()
	started := false
	cfg := er.DefaultCompensationConfig()
	cfg.OnCompensationStart = func(string, error) { started = true }
	s := mustSaga(t, "order", cfg, orderSteps(l, "", nil))
	got, err := s.Run(context.Background(), "order-1", order{Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"reserve inventory/forward", "charge payment/forward", "create shipment/forward"}; !slices.Equal(l.callLog(), want) {
		t.Errorf("calls %q, want %q", l.callLog(), want)
	}
	if started || got.Reservation != "res-1" || got.Amount != 5 {
		t.Errorf("compensation started %v, state %+v", started, got)
	}
}

func TestSagaCompensatesInReverseOrderOfTheStepsThatTookEffect(t *testing.T) {
	for _, failAt := range []int{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("step %d fails", failAt), func(t *testing.T) {
			var calls []string
			var steps []er.SagaStep[int]
			for i := 1; i <= 5; i++ {
				name := fmt.Sprintf("s%d", i)
				steps = append(steps, er.NewSagaStep(name,
					func(ctx context.Context, c er.SagaCall[int]) (int, error) {
						calls = append(calls, "do "+c.Step)
						if i == failAt {
							return 0, errFlaky
						}
						return i * 10, nil
					},
					func(ctx context.Context, c er.SagaCall[int], out int) error {
						calls = append(calls, fmt.Sprintf("undo %s(%d)", c.Step, out))
						return nil
					}))
			}
			s := mustSaga(t, "five", er.CompensationConfig{}, steps)
			_, err := s.Run(context.Background(), "r", 0)
			var want []string
			for i := 1; i <= failAt; i++ {
				want = append(want, fmt.Sprintf("do s%d", i))
			}
			for i := failAt - 1; i >= 1; i-- {
				want = append(want, fmt.Sprintf("undo s%d(%d)", i, i*10))
			}
			if !slices.Equal(calls, want) {
				t.Errorf("calls:\n got %q\nwant %q", calls, want)
			}
			if !errors.Is(err, errFlaky) {
				t.Errorf("error %v, want it to match the step's", err)
			}
		})
	}
}

func TestSagaAttemptsEveryCompensationWhenOneFails(t *testing.T) {
	l := newLedger()
	var completed *er.SagaError
	cfg := er.CompensationConfig{OnCompensationComplete: func(_ string, res *er.SagaError) { completed = res }}
	s := mustSaga(t, "order", cfg, orderSteps(l, "create shipment", map[string]error{"charge payment": errRefundDown}))
	_, err := s.Run(context.Background(), "order-9", order{})

	if want := []string{
		"reserve inventory/forward", "charge payment/forward", "create shipment/forward",
		"charge payment/compensate", "reserve inventory/compensate",
	}; !slices.Equal(l.callLog(), want) {
		t.Errorf("calls %q, want %q", l.callLog(), want)
	}
	for _, target := range []error{errOutOfStock, errRefundDown, er.ErrCompensationFailed, er.ErrSagaFailed} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
	se, _ := errors.AsType[*er.SagaError](err)
	if se == nil || se.State.Kind != er.SagaCompensationFailed || !slices.Equal(se.Owed, []string{"charge payment"}) {
		t.Fatalf("error %#v: want CompensationFailed owing the payment", err)
	}
	if len(se.Compensations) != 1 || se.Compensations[0].Step != "charge payment" || se.Compensations[0].Phase != er.SagaPhaseCompensate {
		t.Errorf("compensation errors %v", se.Compensations)
	}
	if completed != se {
		t.Errorf("OnCompensationComplete got %v, want the error Run returned", completed)
	}
}

func TestSagaAllCompensationsFailingAreAllReported(t *testing.T) {
	l := newLedger()
	s := mustSaga(t, "order", er.CompensationConfig{}, orderSteps(l, "create shipment",
		map[string]error{"charge payment": errRefundDown, "reserve inventory": errReleaseStuck}))
	_, err := s.Run(context.Background(), "order-10", order{})
	se, _ := errors.AsType[*er.SagaError](err)
	if se == nil || !slices.Equal(se.Owed, []string{"charge payment", "reserve inventory"}) ||
		!errors.Is(err, errRefundDown) || !errors.Is(err, errReleaseStuck) {
		t.Fatalf("error %v: want both compensation failures and both owed", err)
	}
}

func TestSagaTimeoutDuringAStepCompensatesTheStepsBefore(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var calls []string
	waiting := make(chan struct{})
	steps := []er.SagaStep[int]{
		er.NewSagaStep("book", func(ctx context.Context, c er.SagaCall[int]) (string, error) {
			calls = append(calls, "book")
			return "b1", nil
		}, func(ctx context.Context, c er.SagaCall[int], out string) error {
			calls = append(calls, "cancel "+out)
			if ctx.Err() != nil {
				return ctx.Err() // compensations do not share the saga's deadline
			}
			return nil
		}),
		er.NewSagaStep("wait for approval", func(ctx context.Context, c er.SagaCall[int]) (bool, error) {
			calls = append(calls, "wait")
			close(waiting)
			<-ctx.Done() // released by the saga timeout on the manual clock
			return false, ctx.Err()
		}, nil),
	}
	cfg := er.CompensationConfig{SagaTimeout: 30 * time.Second}
	s := mustSaga(t, "booking", cfg, steps, er.WithClock(clk))
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
	if !errors.Is(err, er.ErrSagaTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, er.ErrSagaFailed) {
		t.Fatalf("error %v: want a saga timeout", err)
	}
	te, _ := errors.AsType[*er.SagaTimeoutError](err)
	if te == nil || te.Step != "wait for approval" || te.Timeout != 30*time.Second {
		t.Errorf("timeout error %#v", te)
	}
	if want := []string{"book", "wait", "cancel b1"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

func TestSagaTimeoutStopsTheNextStepFromStarting(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var calls []string
	step := func(name string, advance time.Duration) er.SagaStep[int] {
		return er.NewSagaStep(name, func(ctx context.Context, c er.SagaCall[int]) (int, error) {
			calls = append(calls, name)
			clk.Advance(advance)
			return 0, nil
		}, func(ctx context.Context, c er.SagaCall[int], _ int) error {
			calls = append(calls, "undo "+name)
			return nil
		})
	}
	cfg := er.CompensationConfig{SagaTimeout: time.Minute}
	s := mustSaga(t, "slow", cfg, []er.SagaStep[int]{step("a", 10*time.Second), step("b", time.Minute), step("c", 0)}, er.WithClock(clk))
	_, err := s.Run(context.Background(), "x", 0)
	te, _ := errors.AsType[*er.SagaTimeoutError](err)
	if te == nil || te.Step != "c" || te.Err != nil {
		t.Fatalf("error %v: want a timeout before step c started", err)
	}
	if want := []string{"a", "b", "undo b", "undo a"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

func TestSagaCancelledCallerStillGetsRolledBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls []string
	steps := []er.SagaStep[int]{
		er.NewSagaStep("a", func(ctx context.Context, c er.SagaCall[int]) (int, error) {
			calls = append(calls, "a")
			cancel() // the caller gives up while the saga runs
			return 1, nil
		}, func(ctx context.Context, c er.SagaCall[int], _ int) error {
			calls = append(calls, "undo a")
			return ctx.Err()
		}),
		er.NewSagaStep("b", func(ctx context.Context, c er.SagaCall[int]) (int, error) {
			calls = append(calls, "b")
			return 2, nil
		}, nil),
	}
	s := mustSaga(t, "c", er.CompensationConfig{}, steps)
	_, err := s.Run(ctx, "x", 0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled as the cause", err)
	}
	if se, _ := errors.AsType[*er.SagaError](err); se == nil || se.State.Kind != er.SagaCompensated {
		t.Errorf("error %v: want Compensated", err)
	}
	if want := []string{"a", "undo a"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

func TestSagaIdempotencyKeys(t *testing.T) {
	k := er.IdempotencyKey("order-42", "charge payment", er.SagaPhaseForward)
	if len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("key %q: want 32 lowercase hex digits", k)
	}
	if k != er.IdempotencyKey("order-42", "charge payment", er.SagaPhaseForward) {
		t.Error("the same inputs gave different keys")
	}
	others := []string{
		er.IdempotencyKey("order-42", "charge payment", er.SagaPhaseCompensate),
		er.IdempotencyKey("order-43", "charge payment", er.SagaPhaseForward),
		er.IdempotencyKey("order-42", "charge paymen", er.SagaPhaseForward),
		er.IdempotencyKey("order-4", "2charge payment", er.SagaPhaseForward),
	}
	for _, o := range others {
		if o == k {
			t.Errorf("key collision: %q", o)
		}
	}
}

func TestSagaStepProtectedByRetryKeepsItsKey(t *testing.T) {
	var keys []string
	retry := mustRetry(t, retryCfg(3, er.Fixed, 0))
	steps := []er.SagaStep[int]{
		er.NewSagaStep("flaky", func(ctx context.Context, c er.SagaCall[int]) (int, error) {
			keys = append(keys, c.Key)
			if n, _ := er.AttemptFromContext(ctx); n < 3 {
				return 0, errFlaky
			}
			return 7, nil
		}, nil).ProtectedBy(retry),
	}
	s := mustSaga(t, "retried", er.CompensationConfig{}, steps)
	if _, err := s.Run(context.Background(), "id", 0); err != nil {
		t.Fatal(err)
	}
	want := er.IdempotencyKey("id", "flaky", er.SagaPhaseForward)
	if !slices.Equal(keys, []string{want, want, want}) {
		t.Errorf("keys %q: want three attempts with key %q", keys, want)
	}
}

func TestSagaCompensationRetryRetriesAFailingCompensation(t *testing.T) {
	undos := 0
	steps := []er.SagaStep[int]{
		er.NewSagaStep("a", func(ctx context.Context, c er.SagaCall[int]) (int, error) { return 1, nil },
			func(ctx context.Context, c er.SagaCall[int], _ int) error {
				if undos++; undos < 2 {
					return errFlaky
				}
				return nil
			}),
		er.NewSagaStep("b", func(ctx context.Context, c er.SagaCall[int]) (int, error) { return 0, errOutOfStock }, nil),
	}
	cfg := er.CompensationConfig{CompensationRetry: mustRetry(t, retryCfg(3, er.Fixed, 0))}
	s := mustSaga(t, "r", cfg, steps)
	_, err := s.Run(context.Background(), "x", 0)
	if se, _ := errors.AsType[*er.SagaError](err); se == nil || se.State.Kind != er.SagaCompensated || undos != 2 {
		t.Errorf("error %v after %d compensation attempts: want Compensated after 2", err, undos)
	}
}

func TestSagaDeadlineExecutorProtectsAStep(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	dl, err := er.NewDeadlineExecutor[struct{}](er.DeadlineConfig{Timeout: time.Second}, er.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	steps := []er.SagaStep[int]{
		er.NewSagaStep("slow", func(ctx context.Context, c er.SagaCall[int]) (int, error) {
			clk.Advance(2 * time.Second)
			return 0, ctx.Err()
		}, nil).ProtectedBy(dl),
	}
	s := mustSaga(t, "d", er.CompensationConfig{}, steps, er.WithClock(clk))
	_, err = s.Run(context.Background(), "x", 0)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, er.ErrSagaTimeout) {
		t.Errorf("error %v: want the step's own deadline, not the saga's", err)
	}
}

func TestSagaUntypedCompensationActionsByStepName(t *testing.T) {
	var got er.Compensation
	steps := []er.SagaStep[order]{
		er.NewSagaStep("charge payment", func(ctx context.Context, c er.SagaCall[order]) (map[string]string, error) {
			return map[string]string{"payment_id": "pay-1"}, nil
		}, nil),
		er.NewSagaStep("ship", func(ctx context.Context, c er.SagaCall[order]) (int, error) { return 0, errOutOfStock }, nil),
	}
	cfg := er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{
		"charge payment": func(ctx context.Context, c er.Compensation) error {
			got = c
			return nil
		},
	}}
	s := mustSaga(t, "order", cfg, steps)
	if _, err := s.Run(context.Background(), "o1", order{Customer: "bo"}); !errors.Is(err, errOutOfStock) {
		t.Fatal(err)
	}
	if got.Step != "charge payment" || string(got.Output) != `{"payment_id":"pay-1"}` ||
		string(got.State) != `{"customer":"bo","amount":0}` || got.Key != er.IdempotencyKey("o1", "charge payment", er.SagaPhaseCompensate) {
		t.Errorf("compensation got %+v (output %s, state %s)", got, got.Output, got.State)
	}
}

func TestSagaJournalsBeforeAndAfterEachEffect(t *testing.T) {
	l := newLedger()
	j := er.NewMemoryJournal()
	cfg := er.CompensationConfig{SaveState: true, Journal: j}
	s := mustSaga(t, "order", cfg, orderSteps(l, "create shipment", nil))
	if _, err := s.Run(context.Background(), "o7", order{Customer: "cy"}); !errors.Is(err, errOutOfStock) {
		t.Fatal(err)
	}
	log, complete, ok := j.Log("o7")
	if !ok || !complete {
		t.Fatalf("journal holds o7: %v, complete: %v", ok, complete)
	}
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
	if !slices.Equal(got, want) {
		t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	if r := log.Records[2]; string(r.Output) != `"res-1"` || !strings.Contains(string(r.State), `"reservation":"res-1"`) {
		t.Errorf("step-done record: output %s, state %s", r.Output, r.State)
	}
	if r := log.Records[1]; r.Key != er.IdempotencyKey("o7", "reserve inventory", er.SagaPhaseForward) || r.Seq != 2 {
		t.Errorf("step-started record %+v", r)
	}
	if logs, _ := j.Incomplete(context.Background()); len(logs) != 0 {
		t.Errorf("incomplete sagas after a compensated run: %v", logs)
	}
}

func TestSagaRunWithAnIDTheJournalHoldsRunsNothing(t *testing.T) {
	l := newLedger()
	j := er.NewMemoryJournal()
	s := mustSaga(t, "order", er.CompensationConfig{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	if _, err := s.Run(context.Background(), "dup", order{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Run(context.Background(), "dup", order{})
	if !errors.Is(err, er.ErrSagaExists) {
		t.Fatalf("error %v, want ErrSagaExists", err)
	}
	if je, _ := errors.AsType[*er.JournalError](err); je == nil || je.Op != "saga-begun" || je.ID != "dup" {
		t.Errorf("error %#v: want a *JournalError for the first record", err)
	}
	if n := len(l.callLog()); n != 3 {
		t.Errorf("%d calls, want the first run's 3 only", n)
	}
}

// failingJournal wraps a journal and fails appends of one kind.
type failingJournal struct {
	er.Journal
	kind er.JournalKind
	step string
}

var errDiskFull = errors.New("disk full")

func (f failingJournal) Append(ctx context.Context, rec er.JournalRecord) error {
	if rec.Kind == f.kind && rec.Step == f.step {
		return errDiskFull
	}
	return f.Journal.Append(ctx, rec)
}

func TestSagaStepWhoseOutcomeCannotBeJournaledIsCompensatedToo(t *testing.T) {
	l := newLedger()
	j := failingJournal{Journal: er.NewMemoryJournal(), kind: er.JournalStepDone, step: "charge payment"}
	s := mustSaga(t, "order", er.CompensationConfig{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	_, err := s.Run(context.Background(), "o", order{})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("error %v, want the journal's", err)
	}
	want := []string{"reserve inventory/forward", "charge payment/forward", "charge payment/compensate", "reserve inventory/compensate"}
	if !slices.Equal(l.callLog(), want) {
		t.Errorf("calls %q, want %q", l.callLog(), want)
	}
}

func TestSagaStepNotStartedWhenTheJournalRefusesItsRecord(t *testing.T) {
	l := newLedger()
	j := failingJournal{Journal: er.NewMemoryJournal(), kind: er.JournalStepStarted, step: "charge payment"}
	s := mustSaga(t, "order", er.CompensationConfig{SaveState: true, Journal: j}, orderSteps(l, "", nil))
	_, err := s.Run(context.Background(), "o", order{})
	if je, _ := errors.AsType[*er.JournalError](err); je == nil || je.Step != "charge payment" || je.Op != "step-started" {
		t.Fatalf("error %v, want the journal error of charge payment", err)
	}
	want := []string{"reserve inventory/forward", "reserve inventory/compensate"}
	if !slices.Equal(l.callLog(), want) {
		t.Errorf("calls %q, want %q", l.callLog(), want)
	}
}

func TestSagaPanicIsReRaisedAndTheSagaLeftForRecover(t *testing.T) {
	j := er.NewMemoryJournal()
	steps := []er.SagaStep[int]{
		er.NewSagaStep("a", func(ctx context.Context, c er.SagaCall[int]) (int, error) { return 1, nil },
			func(ctx context.Context, c er.SagaCall[int], _ int) error { return nil }),
		er.NewSagaStep("b", func(ctx context.Context, c er.SagaCall[int]) (int, error) { panic("bug in b") }, nil),
	}
	s := mustSaga(t, "p", er.CompensationConfig{SaveState: true, Journal: j}, steps)
	func() {
		defer func() {
			if r := recover(); r != "bug in b" {
				t.Errorf("recovered %v, want the original panic value", r)
			}
		}()
		s.Run(context.Background(), "x", 0)
		t.Error("Run returned")
	}()
	logs, _ := j.Incomplete(context.Background())
	if len(logs) != 1 || logs[0].Records[len(logs[0].Records)-1].Kind != er.JournalStepStarted {
		t.Errorf("journal after the panic: %+v, want the saga with b started", logs)
	}
}

func TestSagaTraceFollowsTheDefinition(t *testing.T) {
	var rec enginetest.Recorder
	l := newLedger()
	s := mustSaga(t, "order", er.CompensationConfig{}, orderSteps(l, "create shipment", nil), er.WithObserver(&rec))
	s.Run(context.Background(), "t", order{})
	enginetest.AssertPath(t, &rec, "Start", "Step1", "Step2", "Step3", "Compensating2", "Compensating1", "Compensated")
	var events []string
	for _, r := range rec.Records {
		events = append(events, r.Event)
	}
	if want := []string{"begin", "done", "done", "failed", "undone", "undone"}; !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
}

func TestSagaMachineDiagram(t *testing.T) {
	l := newLedger()
	steps := orderSteps(l, "", nil)
	s := mustSaga(t, "order", er.CompensationConfig{SaveState: true, Journal: er.NewMemoryJournal()}, steps)
	checkMachine(t, "saga", s.Definition().Dot(), s.Definition().Mermaid())
}

func TestSagaWithoutCompensationsHasNoCompensationFailedState(t *testing.T) {
	steps := []er.SagaStep[int]{
		er.NewSagaStep("notify", func(ctx context.Context, c er.SagaCall[int]) (int, error) { return 0, errFlaky }, nil),
	}
	s := mustSaga(t, "n", er.CompensationConfig{}, steps)
	if got := fmt.Sprint(s.Definition().States()); got != "[Start Step1 Done Compensated]" {
		t.Errorf("states %s", got)
	}
	_, err := s.Run(context.Background(), "x", 0)
	if se, _ := errors.AsType[*er.SagaError](err); se == nil || se.State.Kind != er.SagaCompensated {
		t.Errorf("error %v, want Compensated", err)
	}
}

func TestInvalidSagaConfigNamesTheField(t *testing.T) {
	ok := func(ctx context.Context, c er.SagaCall[int]) (int, error) { return 0, nil }
	undo := func(ctx context.Context, c er.SagaCall[int], _ int) error { return nil }
	step := er.NewSagaStep("a", ok, undo)
	cases := []struct {
		name   string
		saga   string
		cfg    er.CompensationConfig
		steps  []er.SagaStep[int]
		opts   []er.ExecutorOption
		config string
		field  string
	}{
		{"negative timeout", "s", er.CompensationConfig{SagaTimeout: -1}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "SagaTimeout"},
		{"save state without journal", "s", er.CompensationConfig{SaveState: true}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "Journal"},
		{"journal without save state", "s", er.CompensationConfig{Journal: er.NewMemoryJournal()}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "SaveState"},
		{"nil untyped compensation", "s", er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"a": nil}}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"untyped compensation for no step", "s", er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"zz": func(context.Context, er.Compensation) error { return nil }}}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"two compensations for a step", "s", er.CompensationConfig{CompensationActions: map[string]er.CompensationFunc{"a": func(context.Context, er.Compensation) error { return nil }}}, []er.SagaStep[int]{step}, nil, "CompensationConfig", "CompensationActions"},
		{"no name", "", er.CompensationConfig{}, []er.SagaStep[int]{step}, nil, "Saga", "name"},
		{"no steps", "s", er.CompensationConfig{}, nil, nil, "Saga", "steps"},
		{"unnamed step", "s", er.CompensationConfig{}, []er.SagaStep[int]{step, er.NewSagaStep("", ok, undo)}, nil, "Saga", "steps[1]"},
		{"duplicate step", "s", er.CompensationConfig{}, []er.SagaStep[int]{step, step}, nil, "Saga", "steps[1]"},
		{"step without action", "s", er.CompensationConfig{}, []er.SagaStep[int]{er.NewSagaStep[int, int]("b", nil, undo)}, nil, "Saga", "steps[0]"},
		{"deadline option", "s", er.CompensationConfig{}, []er.SagaStep[int]{step}, []er.ExecutorOption{er.WithDeadline(er.DeadlineConfig{Timeout: time.Second})}, "Saga", "WithDeadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := er.NewSaga(tc.saga, tc.cfg, tc.steps, tc.opts...)
			ce, ok := errors.AsType[*er.ConfigError](err)
			if !ok || ce.Config != tc.config || ce.Field != tc.field {
				t.Errorf("got %v, want a *ConfigError naming %s.%s", err, tc.config, tc.field)
			}
		})
	}
	s := mustSaga(t, "s", er.CompensationConfig{}, []er.SagaStep[int]{step})
	if _, err := s.Run(context.Background(), "", 0); err == nil {
		t.Error("Run with an empty id: want an error")
	}
}

func TestDefaultCompensationConfig(t *testing.T) {
	c := er.DefaultCompensationConfig()
	if c.SagaTimeout != 300*time.Second || c.SaveState || c.Journal != nil || c.CompensationRetry != nil {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSagaStateAndEventNames(t *testing.T) {
	for s, want := range map[er.SagaState]string{
		{}: "Start", {Kind: er.SagaForward, Step: 2}: "Step2", {Kind: er.SagaCompensating, Step: 1}: "Compensating1",
		{Kind: er.SagaDone}: "Done", {Kind: er.SagaCompensated}: "Compensated", {Kind: er.SagaCompensationFailed}: "CompensationFailed",
	} {
		if s.String() != want {
			t.Errorf("%#v prints %q, want %q", s, s.String(), want)
		}
	}
	if er.SagaUndoFailed.String() != "undo failed" || er.SagaPhaseCompensate.String() != "compensate" {
		t.Error("event or phase names changed")
	}
}
