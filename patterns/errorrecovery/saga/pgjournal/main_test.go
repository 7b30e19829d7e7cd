package pgjournal_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal/internal/pgtest"
)

// cluster is the throwaway PostgreSQL cluster of this test binary: each
// test takes a schema of its own in it (cluster.NewSchema).
var cluster *pgtest.Cluster

// TestMain provisions the cluster (installing PostgreSQL if need be: these
// tests never skip for want of it), runs the tests, checks that no
// goroutine outlives them, and stops and removes the cluster, also when a
// test failed or the binary is interrupted. A replica child of the
// multi-replica test uses its parent's cluster instead.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(envReplicaConn) != "" {
		os.Exit(m.Run())
	}
	start := time.Now()
	c, err := pgtest.Start(context.Background(), func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = c
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: cluster on 127.0.0.1:%d ready in %v\n", c.Port, time.Since(start).Round(time.Millisecond))
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigs; ok {
			c.Stop()
			os.Exit(1)
		}
	}()

	code := m.Run()
	signal.Stop(sigs)
	close(sigs)
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// openJournal opens a journal on conn, closed when the test ends.
func openJournal(t *testing.T, conn string, cfg pgjournal.Config) *pgjournal.Journal {
	t.Helper()
	j, err := pgjournal.Open(context.Background(), conn, cfg)
	require.NoError(t, err)
	t.Cleanup(j.Close)
	return j
}

// rawPool connects to conn directly, to look at or damage the tables.
func rawPool(t *testing.T, conn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), conn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func execSQL(t *testing.T, pool *pgxpool.Pool, query string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func queryInt(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoErrorf(t, pool.QueryRow(context.Background(), query, args...).Scan(&n), "%s", query)
	return n
}
