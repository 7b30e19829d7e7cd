package errorrecovery_test

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkMachine compares a definition's dot and Mermaid with their goldens
// and renders the dot with Graphviz.
func checkMachine(t *testing.T, name, dot, mermaid string) {
	t.Helper()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/"+name+".dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/"+name+".mmd", []byte(mermaid), *update)
}

func TestRetryAndDeadlineMachinesDiagrams(t *testing.T) {
	r := mustRetry(t, er.DefaultRetryConfig[int]())
	checkMachine(t, "retry", r.Definition().Dot(), r.Definition().Mermaid())
	d, err := er.NewDeadline[int](er.DefaultDeadlineConfig())
	require.NoError(t, err)
	checkMachine(t, "deadline", d.Definition().Dot(), d.Definition().Mermaid())
}
