//go:build unix

package sqlitejournal_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/sqlitejournal"
)

// The crash test runs the order saga in a child process (this test
// binary, re-executed to run only TestHelperSagaChild) that kills itself
// with SIGKILL at a point named in its environment, then recovers in the
// parent and checks the effect ledger. It covers every point the saga
// passes: before and after each effect (forward and compensating) and
// before and after each journal write.
const (
	envDir      = "SQLITEJOURNAL_CRASH_DIR"
	envPoint    = "SQLITEJOURNAL_CRASH_AT"
	envScenario = "SQLITEJOURNAL_CRASH_SCENARIO"
)

// crashSteps are the saga's steps and their outputs; in the "fail"
// scenario the last one fails.
var crashSteps = []struct{ name, out string }{
	{"reserve inventory", "res-1"},
	{"charge payment", "pay-7"},
	{"create shipment", "ship-3"},
}

// killer names the points a run passes and kills the process at one.
type killer struct {
	at   string // the point to die at; empty: none
	mu   sync.Mutex
	seen []string
}

func (k *killer) point(name string) {
	k.mu.Lock()
	k.seen = append(k.seen, name)
	k.mu.Unlock()
	if name == k.at {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// killingJournal passes the points before and after each journal write.
type killingJournal struct {
	*sqlitejournal.Journal
	k *killer
	n int
}

func (j *killingJournal) Append(ctx context.Context, rec saga.Record) error {
	j.n++
	p := fmt.Sprintf("journal write %d (%s)", j.n, strings.TrimSpace(rec.Kind.String()+" "+rec.Step))
	j.k.point("before " + p)
	err := j.Journal.Append(ctx, rec)
	j.k.point("after " + p)
	return err
}

func (j *killingJournal) Complete(ctx context.Context, id string) error {
	j.k.point("before journal complete")
	err := j.Journal.Complete(ctx, id)
	j.k.point("after journal complete")
	return err
}

// ledger is the effect ledger: a SQLite file apart from the journal, that
// the saga's effects write themselves. An effect happens once per
// idempotency key (a row in effects), as an idempotent service makes it;
// every call is counted in calls.
type ledger struct{ db *sql.DB }

func openLedger(t *testing.T, dir string) *ledger {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "ledger.db")+"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, step TEXT NOT NULL, phase TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS calls (n INTEGER PRIMARY KEY, key TEXT NOT NULL)`,
	} {
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
	}
	return &ledger{db}
}

// apply counts a call of an action with key and makes its effect happen
// unless it already has, in one transaction.
func (l *ledger) apply(ctx context.Context, c saga.Call[string]) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls (key) VALUES (?)`, c.Key); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM effects WHERE key = ?`, c.Key).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO effects (key, step, phase) VALUES (?, ?, ?)`, c.Key, c.Step, c.Phase.String()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (l *ledger) count(t *testing.T, table, key string) int {
	t.Helper()
	var n int
	require.NoError(t, l.db.QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE key = ?`, key).Scan(&n))
	return n
}

// crashSaga builds the order saga over the ledger, passing k's points
// around each effect. Its steps resolve an unknown outcome by asking the
// ledger, as a real one would ask the service by key.
func crashSaga(t *testing.T, j saga.Journal, l *ledger, k *killer, scenario string) *saga.Saga[string] {
	t.Helper()
	var steps []saga.Step[string]
	for i, st := range crashSteps {
		failing := scenario == "fail" && i == len(crashSteps)-1
		steps = append(steps, saga.NewStep(st.name,
			func(ctx context.Context, c saga.Call[string]) (string, error) {
				k.point("before effect " + c.Step + "/forward")
				if failing {
					return "", errors.New("shipping: address not served")
				}
				if err := l.apply(ctx, c); err != nil {
					return "", err
				}
				k.point("after effect " + c.Step + "/forward")
				return st.out, nil
			},
			func(ctx context.Context, c saga.Call[string], out string) error {
				if out != st.out {
					return fmt.Errorf("compensation of %s got output %q, want %q", c.Step, out, st.out)
				}
				k.point("before effect " + c.Step + "/compensate")
				if err := l.apply(ctx, c); err != nil {
					return err
				}
				k.point("after effect " + c.Step + "/compensate")
				return nil
			}).ResolvedBy(func(ctx context.Context, c saga.Call[string]) (bool, any, error) {
			return l.count(t, "effects", c.Key) == 1, st.out, nil
		}))
	}
	s, err := saga.New("order", saga.Config{SaveState: true, Journal: j}, steps)
	require.NoError(t, err)
	return s
}

// runChild runs the scenario's saga in dir, dying at point at (if it is
// passed), and returns the points passed.
func runChild(t *testing.T, dir, at, scenario string) []string {
	t.Helper()
	jr, err := sqlitejournal.Open(context.Background(), filepath.Join(dir, "journal.db"))
	require.NoError(t, err)
	defer jr.Close()
	k := &killer{at: at}
	j := &killingJournal{Journal: jr, k: k}
	s := crashSaga(t, j, openLedger(t, dir), k, scenario)
	_, err = s.Run(context.Background(), "order-42", "ada")
	if (scenario == "fail") != errors.Is(err, saga.ErrFailed) || errors.Is(err, saga.ErrCompensationFailed) {
		t.Fatalf("scenario %s: run returned %v", scenario, err)
	}
	return k.seen
}

// TestHelperSagaChild is the child process of TestCrashAtEveryPointThenRecover.
func TestHelperSagaChild(t *testing.T) {
	dir := os.Getenv(envDir)
	if dir == "" {
		t.Skip("run by TestCrashAtEveryPointThenRecover in a child process")
	}
	runChild(t, dir, os.Getenv(envPoint), os.Getenv(envScenario))
	t.Fatalf("the child passed no point named %q", os.Getenv(envPoint))
}

func TestCrashAtEveryPointThenRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary once per crash point")
	}
	for _, scenario := range []string{"fail", "ok"} {
		// A run that does not crash names the points, in order.
		points := runChild(t, t.TempDir(), "", scenario)
		if len(points) < 10 {
			t.Fatalf("scenario %s passed only %q", scenario, points)
		}
		for _, p := range points {
			t.Run(scenario+"/"+p, func(t *testing.T) {
				t.Parallel()
				crashAndRecover(t, scenario, p)
			})
		}
	}
}

// crashAndRecover runs a child that dies at point p, recovers, and checks
// the ledger.
func crashAndRecover(t *testing.T, scenario, p string) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSagaChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDir+"="+dir, envPoint+"="+p, envScenario+"="+scenario)
	out, err := cmd.CombinedOutput()
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		t.Fatalf("child did not die at %q: %v\n%s", p, err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL, at %q\n%s", err, p, out)
	}

	j, err := sqlitejournal.Open(context.Background(), filepath.Join(dir, "journal.db"))
	require.NoError(t, err)
	defer j.Close()
	l := openLedger(t, dir)
	reg, err := saga.NewRegistry(crashSaga(t, j, l, &killer{}, scenario))
	require.NoError(t, err)
	res, err := saga.Recover(context.Background(), j, reg)
	require.NoError(t, err, "Recover")
	if logs, err := j.Incomplete(context.Background()); err != nil || len(logs) != 0 {
		t.Fatalf("after Recover: %d incomplete, %v", len(logs), err)
	}

	// What the ledger must show: every forward effect at most once and
	// never called again; then either the saga got to Done (every forward
	// effect, no compensation) or it was rolled back (a compensation
	// effect exactly for each forward effect: exactly once per owed
	// compensation, none for a step that took no effect).
	var fwd, comp []int
	var report []string
	for _, st := range crashSteps {
		fk := saga.IdempotencyKey("order-42", st.name, saga.PhaseForward)
		ck := saga.IdempotencyKey("order-42", st.name, saga.PhaseCompensate)
		f, c := l.count(t, "effects", fk), l.count(t, "effects", ck)
		if calls := l.count(t, "calls", fk); calls > 1 {
			t.Errorf("%s: forward action called %d times", st.name, calls)
		}
		fwd, comp = append(fwd, f), append(comp, c)
		report = append(report, fmt.Sprintf("%s: forward %d, compensate %d (%d calls)", st.name, f, c, l.count(t, "calls", ck)))
	}
	done := !slices.Contains(fwd, 0) && !slices.ContainsFunc(comp, func(n int) bool { return n != 0 })
	rolledBack := slices.Equal(fwd, comp)
	if !done && !rolledBack || scenario == "fail" && !rolledBack {
		t.Errorf("crash at %q, recovered %+v: the ledger shows neither Done nor a full roll-back:\n\t%s", p, res, strings.Join(report, "\n\t"))
	}
	for _, r := range res {
		if r.State.Kind != saga.StateDone && r.State.Kind != saga.StateCompensated {
			t.Errorf("recovered %+v", r)
		}
		if (r.State.Kind == saga.StateDone) != done {
			t.Errorf("recovered %v but the ledger says done = %v", r.State, done)
		}
	}
}
