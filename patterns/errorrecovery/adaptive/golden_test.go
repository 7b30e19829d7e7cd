package adaptive_test

import (
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

// TestAdaptiveMachineDiagrams pins the limiter's definition as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot with
// Graphviz.
func TestAdaptiveMachineDiagrams(t *testing.T) {
	def := adaptive.Definition()
	dot := def.Dot()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/adaptive.dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/adaptive.mmd", []byte(def.Mermaid()), *update)
}
