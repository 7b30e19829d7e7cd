// Command statecraft draws, checks and simulates statecraft machines and
// the resilience workflows of package errorrecovery.
//
// Usage:
//
//	statecraft [--version] <command> [flags]
//
// The commands are:
//
//	demo      simulate a layered workflow through an outage (no flags needed)
//	simulate  run a configured workflow against a simulated dependency
//	validate  check a workflow config file
//	render    draw a built-in machine or a configured workflow (dot, Mermaid, SVG)
//	help      show the help of a command
//
// "statecraft <command> --help" shows a command's flags. The exit status is
// 0 on success, 1 when a command fails, and 2 on a usage error, whose
// message goes to standard error.
//
// To see a resilient workflow at work, from a clone of the repository:
//
//	go run ./cmd/statecraft demo
//
// and to watch it in a browser, live, at http://localhost:8080/:
//
//	go run ./cmd/statecraft demo --serve :8080
//
// docs/cli.md describes each command, the config file schema and how the
// simulation keeps time.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/cli"
)

// version is the version --version prints. Release builds set it with
// -ldflags "-X main.version=v1.2.3"; when empty, the module version from
// the build information is used.
var version string

func main() {
	if version != "" {
		cli.Version = version
	}
	// An interrupt ends the commands that run until one (demo --serve).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, SVG: renderSVG, Context: ctx})
	stop()
	os.Exit(code)
}
