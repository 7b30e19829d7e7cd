package inspect_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// newWorkflow registers a retrying workflow (two attempts, no delay) as
// "orders".
func newWorkflow(t *testing.T, in *inspect.Inspector) *inspect.Workflow[string] {
	t.Helper()
	w, err := errorrecovery.NewWorkflow(orders(), engine.WithClock(manual()))
	require.NoError(t, err)
	iw, err := inspect.AddWorkflow(in, "orders", w)
	require.NoError(t, err)
	return iw
}

// orders is the config of the tests' workflow.
func orders() errorrecovery.ErrorRecoveryConfig[string] {
	return errorrecovery.ErrorRecoveryConfig[string]{
		Name:    "orders",
		Primary: errorrecovery.StrategyRetry,
		Retry:   &errorrecovery.RetryConfig[string]{MaxAttempts: 2, InitialDelay: -1},
	}
}

var errFlaky = errors.New("flaky")

func TestWorkflowPageShowsEachExecutionsPath(t *testing.T) {
	in := inspect.New(nil)
	iw := newWorkflow(t, in)
	calls := 0
	v, err := iw.Execute(context.Background(), func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", errFlaky
		}
		return "done", nil
	})
	require.NoError(t, err)
	require.Equal(t, "done", v)
	_, failErr := iw.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky })
	require.Error(t, failErr)

	view := in.View()
	require.Len(t, view.Workflows, 1)
	wv := view.Workflows[0]
	assert.Equal(t, uint64(2), wv.Executions)
	require.Len(t, wv.Recent, 2)
	failed, retried := wv.Recent[0], wv.Recent[1] // newest first
	assert.Equal(t, uint64(2), failed.Seq)
	assert.Equal(t, "error", failed.Outcome)
	assert.Equal(t, failErr.Error(), failed.Error)
	assert.Equal(t, "ok", retried.Outcome)

	// The per-call machine's states are read from its definition, not
	// named here: each path starts in the initial state and ends in a
	// final one, and the retried one is longer than a single attempt's.
	w, err := errorrecovery.NewWorkflow(orders())
	require.NoError(t, err)
	def := w.Definition()
	initial, _ := def.Label(def.Initial())
	var finals []string
	for _, f := range def.Finals() {
		l, _ := def.Label(f)
		finals = append(finals, l)
	}
	for _, x := range wv.Recent {
		require.NotEmpty(t, x.Path)
		assert.Equal(t, initial, x.Path[0])
		assert.Contains(t, finals, x.Path[len(x.Path)-1])
		assert.Len(t, x.Steps, len(x.Path)-1)
	}
	total := 0
	for _, n := range wv.Visits {
		total += n
	}
	assert.Equal(t, len(failed.Steps)+len(retried.Steps), total, "every step of both executions is counted")

	code, _, body := get(t, in, "/workflow/orders")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, strings.Join(retried.Path, " → "))
	assert.Contains(t, body, `<tr class="error"><td>2</td>`)
	for _, s := range def.Graph().States {
		assert.Contains(t, body, `data-state="`+s.Label+`"`)
	}
	code, _, _ = get(t, in, "/workflow/orders/diagram.svg")
	assert.Equal(t, http.StatusOK, code)

	_, _, list := get(t, in, "/")
	assert.Contains(t, list, `<a href="workflow/orders">orders</a>`)
	assert.True(t, slices.ContainsFunc(wv.Counters, func(c inspect.Counter) bool { return c.Name == "Executions" && c.Value == "2" }),
		"the workflow's Metrics are its counters: %v", wv.Counters)
}
