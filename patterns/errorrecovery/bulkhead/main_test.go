package bulkhead_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/internal/testutil"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: worker pools start some.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkMachine compares a definition's dot and Mermaid with their goldens
// and renders the dot with Graphviz.
func checkMachine(t *testing.T, name, dot, mermaid string) {
	t.Helper()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/"+name+".dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/"+name+".mmd", []byte(mermaid), *update)
}
