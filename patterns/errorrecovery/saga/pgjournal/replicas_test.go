//go:build unix

package pgjournal_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal"
)

// The multi-replica test: in each round, three replicas (this test binary,
// re-executed to run only TestHelperReplica) share one database; each
// runs its own sagas and, all along, Recover. Some are killed with
// SIGKILL, at a random journal write or effect (they kill themselves) or
// at a random moment (the parent kills them); the survivors, and the next
// rounds' replicas, recover what the dead left once their leases expire.
// A last round kills nobody. Then an effect ledger, written by the
// effects themselves in the same database, must show every saga complete,
// each owed compensation's effect exactly once, every effect made by the
// replica that held the saga's lease at that moment, and no saga
// compensated by two replicas unless the first had died or lost its lease.
const (
	envReplicaConn   = "PGJOURNAL_REPLICA_CONN"    // the schema's connection string; set only in a replica
	envReplicaName   = "PGJOURNAL_REPLICA_NAME"    // the replica's name, its journal's Config.Owner
	envReplicaSagas  = "PGJOURNAL_REPLICA_SAGAS"   // its sagas: id:failing-step,…
	envReplicaKillAt = "PGJOURNAL_REPLICA_KILL_AT" // the point it kills itself at; 0: none
	envReplicasSeed  = "PGJOURNAL_REPLICAS_SEED"   // the parent's seed; default 1
)

const (
	replicaLease    = 1500 * time.Millisecond
	replicaRenew    = 300 * time.Millisecond
	replicaPatience = 8 * time.Second // how long a replica helps finish others' sagas
	killRounds      = 8
	sagasPerReplica = 6
)

var replicaSteps = []string{"reserve", "charge", "ship"}

// pointKiller numbers the points a replica passes (journal writes,
// effects) and kills the process at one.
type pointKiller struct {
	at int64
	n  atomic.Int64
}

func (k *pointKiller) point() {
	if k.n.Add(1) == k.at {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// killingJournal passes a point before and after each journal write.
type killingJournal struct {
	*pgjournal.Journal
	k *pointKiller
}

func (j *killingJournal) Append(ctx context.Context, rec saga.Record) error {
	j.k.point()
	defer j.k.point()
	return j.Journal.Append(ctx, rec)
}

func (j *killingJournal) Complete(ctx context.Context, id string) error {
	j.k.point()
	defer j.k.point()
	return j.Journal.Complete(ctx, id)
}

// replicaLedger is the effect ledger, in the journal's own schema. An
// effect happens once per idempotency key (a row in ledger_effects, with
// the replica that made it); every call is a row in ledger_calls, with
// whether the caller held the saga's lease then, read under a lock that
// keeps any claim out until the effect is committed.
type replicaLedger struct {
	pool *pgxpool.Pool
	me   string // the journal's owner id
}

var ledgerTables = []string{
	`CREATE TABLE ledger_effects (key TEXT PRIMARY KEY, saga_id TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL, replica TEXT NOT NULL)`,
	`CREATE TABLE ledger_calls (n BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, saga_id TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL, replica TEXT NOT NULL, held BOOLEAN NOT NULL)`,
	`CREATE TABLE ledger_lost (replica TEXT NOT NULL, saga_id TEXT NOT NULL)`,
}

func (l *replicaLedger) apply(ctx context.Context, c saga.Call[string]) error {
	// A service takes a while: long enough for the replicas' runs and
	// recoveries to overlap.
	time.Sleep(time.Duration(rand.IntN(25)) * time.Millisecond)
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var holder string
	if err := tx.QueryRow(ctx, `SELECT owner FROM saga_journal_sagas WHERE saga_id = $1 FOR SHARE`, c.ID).Scan(&holder); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_calls (key, saga_id, step, phase, replica, held) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Key, c.ID, c.Step, c.Phase.String(), l.me, holder == l.me); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_effects (key, saga_id, step, phase, replica) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO NOTHING`, c.Key, c.ID, c.Step, c.Phase.String(), l.me); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (l *replicaLedger) applied(ctx context.Context, key string) (bool, error) {
	var n int
	err := l.pool.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_effects WHERE key = $1`, key).Scan(&n)
	return n == 1, err
}

func (l *replicaLedger) lost(ctx context.Context, id string) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO ledger_lost (replica, saga_id) VALUES ($1, $2)`, l.me, id)
	return err
}

// replicaSaga is the order saga over the ledger. Its state names the step
// that fails (taking no effect), if any; an unknown outcome is resolved by
// asking the ledger, as a real saga would ask the service by key.
func replicaSaga(t *testing.T, j saga.Journal, l *replicaLedger, k *pointKiller) *saga.Saga[string] {
	t.Helper()
	var steps []saga.Step[string]
	for _, name := range replicaSteps {
		out := "out-" + name
		steps = append(steps, saga.NewStep(name,
			func(ctx context.Context, c saga.Call[string]) (string, error) {
				k.point()
				if *c.State == name {
					return "", errors.New(name + ": refused")
				}
				if err := l.apply(ctx, c); err != nil {
					return "", err
				}
				k.point()
				return out, nil
			},
			func(ctx context.Context, c saga.Call[string], got string) error {
				if got != out {
					return fmt.Errorf("compensating %s got output %q, want %q", name, got, out)
				}
				k.point()
				if err := l.apply(ctx, c); err != nil {
					return err
				}
				k.point()
				return nil
			}).ResolvedBy(func(ctx context.Context, c saga.Call[string]) (bool, any, error) {
			ok, err := l.applied(ctx, c.Key)
			return ok, out, err
		}))
	}
	s, err := saga.New("order", saga.Config{SaveState: true, Journal: j}, steps)
	require.NoError(t, err)
	return s
}

// TestHelperReplica is a replica of TestReplicasRecoverKilledSagasExactlyOnce,
// run in a child process.
func TestHelperReplica(t *testing.T) {
	conn := os.Getenv(envReplicaConn)
	if conn == "" {
		t.Skip("run by TestReplicasRecoverKilledSagasExactlyOnce in a child process")
	}
	ctx := context.Background()
	killAt, _ := strconv.ParseInt(os.Getenv(envReplicaKillAt), 10, 64)
	k := &pointKiller{at: killAt}
	jr := openJournal(t, conn, pgjournal.Config{Owner: os.Getenv(envReplicaName), LeaseDuration: replicaLease, RenewEvery: replicaRenew, ClaimLimit: 2})
	j := &killingJournal{Journal: jr, k: k}
	l := &replicaLedger{pool: rawPool(t, conn), me: jr.Owner()}
	s := replicaSaga(t, j, l, k)
	reg, err := saga.NewRegistry(s)
	require.NoError(t, err)
	// A saga stopped by a lost lease is noted in the ledger; any other
	// failure to finish is an error (no compensation here fails).
	settled := func(id string, err error) {
		switch {
		case err == nil:
		case errors.Is(err, saga.ErrLeaseLost):
			assert.NoError(t, l.lost(ctx, id))
		case errors.Is(err, saga.ErrFailed) && !errors.Is(err, saga.ErrCompensationFailed):
		default:
			t.Errorf("saga %s: %v", id, err)
		}
	}
	recoverAll := func() {
		res, err := saga.Recover(ctx, j, reg)
		if res == nil && err != nil {
			t.Errorf("Recover: %v", err)
		}
		for _, r := range res {
			settled(r.ID, r.Err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				recoverAll()
			}
		}
	})
	if sagas := os.Getenv(envReplicaSagas); sagas != "" {
		for _, plan := range strings.Split(sagas, ",") {
			id, failing, _ := strings.Cut(plan, ":")
			_, err := s.Run(ctx, id, failing)
			settled(id, err)
		}
	}
	// Then help finish what others left, until nothing is incomplete.
	db := rawPool(t, conn)
	for deadline := time.Now().Add(replicaPatience); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if queryInt(t, db, `SELECT COUNT(*) FROM saga_journal_sagas WHERE completed = 0`) == 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
}

// replica is one child process of a round.
type replica struct {
	name string
	cmd  *exec.Cmd
	out  strings.Builder
	mode string // how it is to die: "point N", "after D", or "no kill"
}

func TestReplicasRecoverKilledSagasExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rounds of child processes for several seconds")
	}
	seed := uint64(1)
	if s := os.Getenv(envReplicasSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", envReplicasSeed, err)
		}
	}
	t.Logf("seed %d (set %s to replay another)", seed, envReplicasSeed)
	rng := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
	conn := cluster.NewSchema(t)
	db := rawPool(t, conn)
	openJournal(t, conn, pgjournal.Config{}).Close() // the journal's tables, for the ledger's lock
	for _, ddl := range ledgerTables {
		execSQL(t, db, ddl)
	}

	failing := map[string]string{} // saga id → the step planned to fail
	died := map[string]bool{}      // replica name → killed
	for round := range killRounds + 1 {
		final := round == killRounds
		var rs []*replica
		for i := range 3 {
			r := &replica{name: fmt.Sprintf("r%d.%d", round, i), mode: "no kill"}
			var plans []string
			for n := range sagasPerReplica {
				if final {
					break
				}
				id := fmt.Sprintf("%s-o%d", r.name, n)
				fail := []string{"", "", "charge", "ship", "ship"}[rng.IntN(5)]
				failing[id] = fail
				plans = append(plans, id+":"+fail)
			}
			killAt := 0
			var killAfter time.Duration
			if !final {
				switch p := rng.IntN(10); {
				case p < 5:
					killAt = 1 + rng.IntN(150)
					r.mode = fmt.Sprintf("point %d", killAt)
				case p < 7:
					killAfter = time.Duration(50+rng.IntN(1500)) * time.Millisecond
					r.mode = fmt.Sprintf("after %v", killAfter)
				}
			}
			r.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperReplica$", "-test.count=1")
			r.cmd.Env = append(os.Environ(), envReplicaConn+"="+conn, envReplicaName+"="+r.name,
				envReplicaSagas+"="+strings.Join(plans, ","), envReplicaKillAt+"="+strconv.Itoa(killAt))
			r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
			require.NoError(t, r.cmd.Start())
			if killAfter > 0 {
				timer := time.AfterFunc(killAfter, func() { r.cmd.Process.Signal(syscall.SIGKILL) })
				defer timer.Stop()
			}
			// A replica that hangs past every deadline is a failure.
			watchdog := time.AfterFunc(30*time.Second, func() { r.cmd.Process.Kill() })
			defer watchdog.Stop()
			rs = append(rs, r)
		}
		for _, r := range rs {
			err := r.cmd.Wait()
			if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL && r.mode != "no kill" {
				died[r.name] = true
				continue
			}
			require.NoError(t, err, "replica %s (%s):\n%s", r.name, r.mode, r.out.String())
		}
		t.Logf("round %d: %s", round, roundSummary(rs, died))
	}
	checkLedger(t, db, failing, died)
}

func roundSummary(rs []*replica, died map[string]bool) string {
	var parts []string
	for _, r := range rs {
		fate := "finished"
		if died[r.name] {
			fate = "killed"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", r.name, fate, r.mode))
	}
	return strings.Join(parts, ", ")
}

// call is a row of ledger_calls.
type call struct {
	sagaID, step, phase, replica string
	held                         bool
}

func checkLedger(t *testing.T, db *pgxpool.Pool, failing map[string]string, died map[string]bool) {
	t.Helper()
	ctx := context.Background()
	assert.Equal(t, 0, queryInt(t, db, `SELECT COUNT(*) FROM saga_journal_sagas WHERE completed = 0`), "sagas left incomplete")
	rows, _ := db.Query(ctx, `SELECT saga_id FROM saga_journal_sagas ORDER BY saga_id`)
	sagas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	rows, _ = db.Query(ctx, `SELECT saga_id, step, phase, replica, held FROM ledger_calls ORDER BY n`)
	var calls []call
	var c call
	if _, err := pgx.ForEachRow(rows, []any{&c.sagaID, &c.step, &c.phase, &c.replica, &c.held}, func() error {
		calls = append(calls, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	effects := map[string]map[string]bool{} // saga id → "step/phase" made
	rows, _ = db.Query(ctx, `SELECT saga_id, step, phase FROM ledger_effects`)
	if _, err := pgx.ForEachRow(rows, []any{&c.sagaID, &c.step, &c.phase}, func() error {
		if effects[c.sagaID] == nil {
			effects[c.sagaID] = map[string]bool{}
		}
		effects[c.sagaID][c.step+"/"+c.phase] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lost := map[string]bool{} // "replica saga" pairs of lost leases
	rows, _ = db.Query(ctx, `SELECT replica, saga_id FROM ledger_lost`)
	var rep, id string
	if _, err := pgx.ForEachRow(rows, []any{&rep, &id}, func() error {
		lost[rep+" "+id] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	name := func(owner string) string { n, _, _ := strings.Cut(owner, "#"); return n }

	var done, rolledBack, takenOver, handedOver, rerun int
	for _, id := range sagas {
		fx := effects[id]
		var fwd, comp []string
		for _, st := range replicaSteps {
			if fx[st+"/forward"] {
				fwd = append(fwd, st)
			}
			if fx[st+"/compensate"] {
				comp = append(comp, st)
			}
		}
		isDone := len(fwd) == len(replicaSteps) && len(comp) == 0
		switch {
		case slices.Equal(fwd, comp) && !isDone:
			rolledBack++
		case isDone && failing[id] == "":
			done++
		default:
			t.Errorf("saga %s (failing at %q): forward effects %q, compensations %q: neither done nor rolled back exactly once per key\n%s",
				id, failing[id], fwd, comp, sagaHistory(t, db, id))
		}
		if f := failing[id]; f != "" && slices.Contains(fwd, f) {
			t.Errorf("saga %s: step %s was planned to fail but took effect", id, f)
		}

		// Who called what for this saga: forward actions only by the
		// replica that began it, each at most once; compensations by one
		// replica after another, each taking over only from one that died
		// or lost its lease.
		var compBy []string
		fwdCalls := map[string]int{}
		compCalls := 0
		for _, c := range calls {
			if c.sagaID != id {
				continue
			}
			if !c.held {
				t.Errorf("saga %s: %s %s called by %s without holding the lease", id, c.step, c.phase, c.replica)
			}
			if c.phase == "forward" {
				fwdCalls[c.step]++
				if owner, _, _ := strings.Cut(id, "-"); name(c.replica) != owner {
					t.Errorf("saga %s: forward step %s called by %s, not the replica that began it", id, c.step, c.replica)
				}
				continue
			}
			compCalls++
			if n := len(compBy); n == 0 || compBy[n-1] != c.replica {
				if slices.Contains(compBy, c.replica) {
					t.Errorf("saga %s: compensations by %s resumed after %s had taken over", id, c.replica, compBy[n-1])
				}
				compBy = append(compBy, c.replica)
			}
		}
		if owner, _, _ := strings.Cut(id, "-"); len(compBy) > 0 && name(compBy[len(compBy)-1]) != owner {
			takenOver++
		}
		for st, n := range fwdCalls {
			if n > 1 {
				t.Errorf("saga %s: forward step %s called %d times", id, st, n)
			}
		}
		for _, r := range compBy[:max(len(compBy)-1, 0)] {
			if !died[name(r)] && !lost[r+" "+id] {
				t.Errorf("saga %s: compensated by %q, which neither died nor lost its lease, then by another", id, r)
			}
		}
		if len(compBy) > 1 {
			handedOver++
		}
		if compCalls > len(comp) {
			rerun++
		}
	}
	t.Logf("%d sagas: %d done, %d rolled back: %d of them by a replica other than the one that began them, %d by two replicas one after the other (the first died or lost its lease), %d with a compensation called again after a crash; %d replicas killed, %d leases lost by live replicas",
		len(sagas), done, rolledBack, takenOver, handedOver, rerun, len(died), len(lost))
	if len(died) == 0 {
		t.Error("no replica was killed: the seed tests nothing")
	}
}

// sagaHistory lists a saga's journal records and ledger calls, to explain
// a failure.
func sagaHistory(t *testing.T, db *pgxpool.Pool, id string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	rows, _ := db.Query(ctx, `SELECT id, seq, kind, body FROM saga_journal_records WHERE saga_id = $1 ORDER BY seq`, id)
	var n, seq int64
	var kind, body string
	pgx.ForEachRow(rows, []any{&n, &seq, &kind, &body}, func() error {
		fmt.Fprintf(&b, "\tjournal id %d seq %d %s %s\n", n, seq, kind, body)
		return nil
	})
	rows, _ = db.Query(ctx, `SELECT n, step, phase, replica, held FROM ledger_calls WHERE saga_id = $1 ORDER BY n`, id)
	var step, phase, rep string
	var held bool
	pgx.ForEachRow(rows, []any{&n, &step, &phase, &rep, &held}, func() error {
		fmt.Fprintf(&b, "\tcall %d %s/%s by %s (held %v)\n", n, step, phase, rep, held)
		return nil
	})
	rows, _ = db.Query(ctx, `SELECT step, phase, replica FROM ledger_effects WHERE saga_id = $1`, id)
	pgx.ForEachRow(rows, []any{&step, &phase, &rep}, func() error {
		fmt.Fprintf(&b, "\teffect %s/%s by %s\n", step, phase, rep)
		return nil
	})
	return b.String()
}
