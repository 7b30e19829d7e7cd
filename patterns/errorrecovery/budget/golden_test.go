package budget_test

import (
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// TestRetryBudgetMachineDiagrams pins the budget's definition as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot
// with Graphviz.
func TestRetryBudgetMachineDiagrams(t *testing.T) {
	def := budget.Definition()
	dot := def.Dot()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/budget.dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/budget.mmd", []byte(def.Mermaid()), *update)
}
