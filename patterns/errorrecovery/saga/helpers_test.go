package saga_test

import (
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var errFlaky = errors.New("flaky")

// checkMachine compares a definition's dot and Mermaid with their goldens
// and renders the dot with Graphviz.
func checkMachine(t *testing.T, name, dot, mermaid string) {
	t.Helper()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/"+name+".dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/"+name+".mmd", []byte(mermaid), *update)
}

func retryCfg(attempts int, b er.Backoff, d time.Duration) er.RetryConfig[int] {
	c := er.DefaultRetryConfig[int]()
	c.MaxAttempts, c.Backoff, c.InitialDelay = attempts, b, d
	return c
}

func mustRetry[T any](t *testing.T, cfg er.RetryConfig[T], opts ...engine.Option) *er.Workflow[T] {
	t.Helper()
	x, err := er.NewRetry(cfg, opts...)
	require.NoError(t, err)
	return x
}
