package errorrecovery_test

import (
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// TestBreakerMachineDiagrams pins the breaker's definition as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot with
// Graphviz.
func TestBreakerMachineDiagrams(t *testing.T) {
	def := er.BreakerDefinition()
	checkMachine(t, "breaker", def.Dot(), def.Mermaid())
}
