// Package cli is the statecraft command line: its commands, their flags
// and their output. Package main wires it to the process (arguments,
// standard streams, exit status) and adds the SVG renderer, whose
// dependencies only the binary links; tests run Main in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Exit statuses.
const (
	ExitOK    = 0 // the command did its job
	ExitFail  = 1 // the command failed: an invalid config, an error writing its output
	ExitUsage = 2 // the command line was wrong; nothing was done
)

// Env is what a command line runs with besides its arguments.
type Env struct {
	// Stdout and Stderr are the standard output and error. When Stderr is
	// a terminal (an *os.File on a character device), simulate draws a
	// progress bar on it.
	Stdout, Stderr io.Writer
	// SVG renders a Graphviz dot graph as SVG. Nil means SVG output is not
	// available: --format svg and --svg then fail with exit status 1.
	SVG func(dot []byte) ([]byte, error)

	// Context ends a command that runs until interrupted (demo --serve)
	// when it is done; nil means one that never is. Package main cancels
	// it on an interrupt (Ctrl-C) or SIGTERM.
	Context context.Context
	// Listen opens the listener of demo --serve; nil means
	// net.Listen("tcp", addr).
	Listen func(addr string) (net.Listener, error)
	// Pace, when set, replaces demo --serve's pacing on the wall clock: it
	// is called with the simulated time elapsed each time the simulation's
	// clock moves, may block, and stops the simulation by returning an
	// error. Tests use it to run the simulation at once, or to hold it at
	// a chosen time.
	Pace func(ctx context.Context, elapsed time.Duration) error
}

// Version is the version --version prints. Release builds set it with
// -ldflags "-X github.com/statecraft/statecraft/cmd/statecraft/internal/cli.Version=v1.2.3";
// when empty, the module version from the build information is used.
var Version string

// A command is one subcommand of statecraft. Each lives in its own file.
type command struct {
	name    string // as typed after "statecraft"
	summary string // one line for the top-level usage
	run     func(args []string, env *Env) int
}

// commands returns the subcommands in the order the usage lists them. It is
// a function rather than a variable so that help, which lists them, does
// not make an initialisation cycle.
func commands() []command {
	return []command{
		{"demo", "simulate a layered workflow through an outage (no flags needed)", runDemo},
		{"simulate", "run a configured workflow against a simulated dependency", runSimulate},
		{"validate", "check a workflow config file", runValidate},
		{"render", "draw a built-in machine or a configured workflow (dot, Mermaid, SVG)", runRender},
		{"help", "show the help of a command", runHelp},
	}
}

// Main runs the statecraft command line args (without the program name)
// and returns the exit status.
func Main(args []string, env Env) int {
	fs := flag.NewFlagSet("statecraft", flag.ContinueOnError)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { topUsage(fs) }
	if code, ok := parse(fs, args, &env); !ok {
		return code
	}
	if *showVersion {
		return write(&env, "statecraft "+versionString()+"\n")
	}
	if fs.NArg() == 0 {
		return usageError(fs, &env, "no command given")
	}
	name := fs.Arg(0)
	if c, ok := lookup(name); ok {
		return c.run(fs.Args()[1:], &env)
	}
	return usageError(fs, &env, fmt.Sprintf("unknown command %q", name))
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func topUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, "statecraft draws, checks and simulates statecraft machines and workflows.\n\n")
	fmt.Fprint(w, "usage: statecraft [--version] <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nflags:\n")
	fs.PrintDefaults()
	fmt.Fprint(w, "\nRun \"statecraft <command> --help\" for a command's flags.\n")
	fmt.Fprint(w, "Exit status: 0 on success, 1 when a command fails, 2 on a usage error.\n")
}

// runHelp implements "statecraft help [command]".
func runHelp(args []string, env *Env) int {
	switch len(args) {
	case 0:
		return Main([]string{"--help"}, *env)
	case 1:
		if c, ok := lookup(args[0]); ok && c.name != "help" {
			return c.run([]string{"--help"}, env)
		}
		if args[0] == "help" {
			return write(env, "usage: statecraft help [command]\n\nhelp shows the help of a command, or lists the commands.\n")
		}
		fmt.Fprintf(env.Stderr, "statecraft help: unknown command %q\nRun \"statecraft --help\" for the list of commands.\n", args[0])
		return ExitUsage
	default:
		fmt.Fprint(env.Stderr, "statecraft help: takes at most one command name\nusage: statecraft help [command]\n")
		return ExitUsage
	}
}

// newFlagSet returns the flag set of a subcommand. synopsis is the usage
// line after "statecraft " and about says what the command does.
func newFlagSet(synopsis, about string) *flag.FlagSet {
	name, _, _ := strings.Cut(synopsis, " ")
	fs := flag.NewFlagSet("statecraft "+name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: statecraft %s\n\n%s\n", synopsis, about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args into fs. It reports ok when the command should go on.
// Otherwise code is the exit status: 0 after printing the usage to stdout
// for -h or --help, 2 after printing the error and the usage to stderr.
func parse(fs *flag.FlagSet, args []string, env *Env) (code int, ok bool) {
	fs.SetOutput(io.Discard) // the flag package would print errors itself
	err := fs.Parse(args)
	switch {
	case err == nil:
		return ExitOK, true
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(env.Stdout)
		fs.Usage()
		return ExitOK, false
	default:
		return usageError(fs, env, err.Error()), false
	}
}

// parseNoArgs is parse for a command that takes flags only: arguments
// left over are a usage error.
func parseNoArgs(fs *flag.FlagSet, args []string, env *Env) (code int, ok bool) {
	if code, ok := parse(fs, args, env); !ok {
		return code, false
	}
	if fs.NArg() > 0 {
		return usageError(fs, env, fmt.Sprintf("unexpected argument %q", fs.Arg(0))), false
	}
	return ExitOK, true
}

// parseWithConfig is parseNoArgs for a command whose -f CONFIG flag
// (file) is required.
func parseWithConfig(fs *flag.FlagSet, args []string, env *Env, file *string) (code int, ok bool) {
	if code, ok := parseNoArgs(fs, args, env); !ok {
		return code, false
	}
	if *file == "" {
		return usageError(fs, env, "-f CONFIG is required"), false
	}
	return ExitOK, true
}

// usageError prints msg and fs's usage to stderr and returns ExitUsage.
func usageError(fs *flag.FlagSet, env *Env, msg string) int {
	fmt.Fprintf(env.Stderr, "%s: %s\n\n", fs.Name(), msg)
	fs.SetOutput(env.Stderr)
	fs.Usage()
	return ExitUsage
}

// fail prints "statecraft <command>: err" to stderr and returns ExitFail.
func fail(env *Env, cmd string, err error) int {
	fmt.Fprintf(env.Stderr, "statecraft %s: %v\n", cmd, err)
	return ExitFail
}

// write writes s to stdout, reporting a failure on stderr.
func write(env *Env, s string) int {
	if _, err := io.WriteString(env.Stdout, s); err != nil {
		fmt.Fprintf(env.Stderr, "statecraft: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func versionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
