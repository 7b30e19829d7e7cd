package ratelimit_test

import (
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestRateLimiterMachineDiagrams pins the limiter's definition as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot
// with Graphviz.
func TestRateLimiterMachineDiagrams(t *testing.T) {
	def := ratelimit.Definition()
	dot := def.Dot()
	testutil.CheckDot(t, dot)
	testutil.CheckGolden(t, "testdata/golden/ratelimit.dot", []byte(dot), *update)
	testutil.CheckGolden(t, "testdata/golden/ratelimit.mmd", []byte(def.Mermaid()), *update)
}
