package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinaryLinksNoTestOnlyModule pins docs/dependencies.md: the modules
// that tests and optional adapters use are not compiled into the
// statecraft command.
func TestBinaryLinksNoTestOnlyModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	cmd := exec.Command(goTool, "list", "-deps", "github.com/statecraft/statecraft/cmd/statecraft")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	require.NoError(t, err, "go list")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/statecraft/statecraft/internal/manualclock", "the simulator's clock")
	for _, module := range []string{
		"github.com/stretchr/testify",
		"github.com/google/go-cmp",
		"github.com/chromedp/",
		"go.opentelemetry.io/",
		"go.uber.org/goleak",
		"modernc.org/sqlite",
		"github.com/jackc/pgx",
		"github.com/statecraft/statecraft/engine/enginetest",
	} {
		for _, d := range deps {
			assert.False(t, strings.HasPrefix(d, module), "the statecraft command compiles %s", d)
		}
	}
}
