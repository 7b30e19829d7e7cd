// Command statecraft works with statecraft machines from the shell. For now
// it draws a sample machine; validating and simulating machines are to come.
//
// Usage:
//
//	statecraft [--version] <command> [flags]
//
// The commands are:
//
//	demo     print the sample door machine as a Graphviz dot diagram
//	render   print the sample door machine as dot or Mermaid
//	help     show the help of a command
//
// "statecraft <command> --help" shows a command's flags. The exit status is
// 0 on success, 1 when a command fails, and 2 on a usage error, whose
// message goes to standard error.
//
// To draw the demo machine with Graphviz:
//
//	statecraft demo | dot -Tsvg > door.svg
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0 // the command did its job
	exitFail  = 1 // the command failed (an error writing its output, say)
	exitUsage = 2 // the command line was wrong; nothing was done
)

// version is the version --version prints. Release builds set it with
// -ldflags "-X main.version=v1.2.3"; when empty, the module version from the
// build information is used.
var version string

// A command is one subcommand of statecraft. Each lives in its own file.
type command struct {
	name    string // as typed after "statecraft"
	summary string // one line for the top-level usage
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands returns the subcommands in the order the usage lists them. It is
// a function rather than a variable so that help, which lists them, does
// not make an initialisation cycle.
func commands() []command {
	return []command{
		{"demo", "print the sample door machine as a Graphviz dot diagram", runDemo},
		{"render", "print the sample door machine as dot or Mermaid", runRender},
		{"help", "show the help of a command", runHelp},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the statecraft command line args (without the program name),
// writing to stdout and stderr, and returns the exit status. Tests call it
// in-process.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statecraft", flag.ContinueOnError)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { topUsage(fs) }
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if *showVersion {
		return write(stdout, stderr, "statecraft "+versionString()+"\n")
	}
	if fs.NArg() == 0 {
		return usageError(fs, stderr, "no command given")
	}
	name := fs.Arg(0)
	if c, ok := lookup(name); ok {
		return c.run(fs.Args()[1:], stdout, stderr)
	}
	return usageError(fs, stderr, fmt.Sprintf("unknown command %q", name))
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
	fmt.Fprint(w, "statecraft works with statecraft machines.\n\n")
	fmt.Fprint(w, "usage: statecraft [--version] <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nflags:\n")
	fs.PrintDefaults()
	fmt.Fprint(w, "\nRun \"statecraft <command> --help\" for a command's flags.\n")
}

// runHelp implements "statecraft help [command]".
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		return run([]string{"--help"}, stdout, stderr)
	case 1:
		if c, ok := lookup(args[0]); ok && c.name != "help" {
			return c.run([]string{"--help"}, stdout, stderr)
		}
		if args[0] == "help" {
			return write(stdout, stderr, "usage: statecraft help [command]\n\nhelp shows the help of a command, or lists the commands.\n")
		}
		fmt.Fprintf(stderr, "statecraft help: unknown command %q\nRun \"statecraft --help\" for the list of commands.\n", args[0])
		return exitUsage
	default:
		fmt.Fprint(stderr, "statecraft help: takes at most one command name\nusage: statecraft help [command]\n")
		return exitUsage
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
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard) // the flag package would print errors itself
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, false
	default:
		return usageError(fs, stderr, err.Error()), false
	}
}

// usageError prints msg and fs's usage to stderr and returns exitUsage.
func usageError(fs *flag.FlagSet, stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\n\n", fs.Name(), msg)
	fs.SetOutput(stderr)
	fs.Usage()
	return exitUsage
}

// write writes s to stdout, reporting a failure on stderr.
func write(stdout, stderr io.Writer, s string) int {
	if _, err := io.WriteString(stdout, s); err != nil {
		fmt.Fprintf(stderr, "statecraft: %v\n", err)
		return exitFail
	}
	return exitOK
}

// withNewline returns s, with a newline appended unless it already ends in one.
func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
