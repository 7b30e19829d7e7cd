package breaker_test

import (
	"flag"
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestBreakerMachineDiagrams pins the breaker's definition as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot with
// Graphviz.
func TestBreakerMachineDiagrams(t *testing.T) {
	def := breaker.Definition()
	dot := def.Dot()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/breaker.dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/breaker.mmd", []byte(def.Mermaid()), *update)
}
