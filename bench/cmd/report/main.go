// Command report turns a run of the bench module's benchmarks into
// docs/performance.md. make bench-compare runs it after running the
// benchmarks and benchstat:
//
//	go test -c -o DIR/bench.test .
//	for i in $(seq N); do DIR/bench.test -test.run=NONE -test.bench=. -test.benchmem -test.count=1 -test.benchtime=T; done > DIR/bench.txt
//	benchstat DIR/bench.txt > DIR/benchstat.txt
//	benchstat -format=csv DIR/bench.txt > DIR/benchstat.csv
//	go run ./cmd/report -dir DIR -start UNIXSECONDS -count N -benchtime T -out ../docs/performance.md
//
// It reads the medians from benchstat.csv, checks them against DESIGN.md's
// performance targets, and for each statecraft benchmark that misses one
// takes a CPU profile (go test -cpuprofile, then go tool pprof -top) and
// puts it in the document beside the explanation written in
// notes/<target>.md. It writes the machine (CPU model, cores, Go
// version), the date, the load average before and after, the run time
// counted from -start, and the commands to reproduce.
//
// It must run in the bench module's directory, which it profiles.
package main

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// notes holds the hand-written part of the document: method.md (what the
// rows do), growth.md (reading the cost-growth tables) and, per target
// id, the explanation of a missed target drawn from its profile.
//
//go:embed notes/*.md
var notes embed.FS

var (
	methodNotes = mustNote("method")
	growthNotes = mustNote("growth")
)

func mustNote(name string) string {
	b, err := notes.ReadFile("notes/" + name + ".md")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// pprofNodes is how many lines of pprof -top the document shows.
const pprofNodes = 20

type machine struct {
	cpu       string
	cores     int
	goVersion string
	platform  string
}

type runInfo struct {
	count       int
	benchtime   string
	profileTime string
	date        string
	loadBefore  string
	loadAfter   string
	elapsed     string
}

func main() {
	dir := flag.String("dir", "", "the folder holding benchstat.csv, benchstat.txt and load-before; profiles are written there too")
	out := flag.String("out", "../docs/performance.md", "the document to write")
	start := flag.Int64("start", 0, "when make bench-compare started, in Unix seconds (for the run time); 0: unknown")
	count := flag.Int("count", 10, "how many passes over the benchmarks ran")
	benchtime := flag.String("benchtime", "", "the -benchtime the benchmarks ran with")
	profileTime := flag.String("profiletime", "1s", "the -benchtime of each profile")
	profile := flag.Bool("profile", true, "profile the statecraft benchmarks that miss a target")
	instructions := flag.Bool("instructions", true, "count each target benchmark's instructions per operation with valgrind, if it is installed")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "report: -dir is required")
		os.Exit(2)
	}
	if err := run(*dir, *out, *start, *count, *benchtime, *profileTime, *profile, *instructions); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(dir, out string, start int64, count int, benchtime, profileTime string, profile, instructions bool) error {
	f, err := os.Open(filepath.Join(dir, "benchstat.csv"))
	if err != nil {
		return err
	}
	res, procs, err := parseBenchstatCSV(f)
	f.Close()
	if err != nil {
		return err
	}
	text, err := os.ReadFile(filepath.Join(dir, "benchstat.txt"))
	if err != nil {
		return err
	}
	r := &report{res: res, procs: procs, machine: readMachine(), benchstat: string(text)}
	r.verdicts = check(res)
	if instructions {
		if err := r.countInstructions(dir); err != nil {
			return err
		}
	} else {
		r.instrNote = "not counted in this run (`-instructions=false`)"
	}
	for i := range r.verdicts {
		v := &r.verdicts[i]
		if v.met() || v.e == nil {
			continue
		}
		if b, err := notes.ReadFile("notes/" + v.noteName() + ".md"); err == nil {
			v.note = expand(string(b), res)
		}
		if profile {
			if v.profile, err = cpuProfile(dir, v.target, profileTime); err != nil {
				return fmt.Errorf("profiling %s: %v", v.bench, err)
			}
		}
	}
	if r.peers, err = peerVersions("go.mod"); err != nil {
		return err
	}
	before, _ := os.ReadFile(filepath.Join(dir, "load-before"))
	r.run = runInfo{count: count, benchtime: benchtime, profileTime: profileTime,
		date:       time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		loadBefore: loadAverage(string(before)), loadAfter: loadAverage(readFile("/proc/loadavg")),
		elapsed: "unknown"}
	if start > 0 {
		d := time.Since(time.Unix(start, 0)).Round(time.Second)
		r.run.elapsed = fmt.Sprintf("%s (benchmarks, benchstat, profiles and this report)", d)
	}
	var buf bytes.Buffer
	r.write(&buf)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	met := 0
	for _, v := range r.verdicts {
		if v.met() {
			met++
		} else if v.e != nil {
			fmt.Printf("report: missed %s: %s ns, %s allocs (goal %s, %s)\n", v.path, fmtNs(v.e.ns.value), fmtCount(v.e.allocs), v.goal, allocGoal(v.maxAllocs))
		}
	}
	fmt.Printf("report: %d of %d targets met; wrote %s; run time %s\n", met, len(r.verdicts), out, r.run.elapsed)
	return nil
}

// measured is a reference to a result in a note: {{ns Row/entry}} is
// replaced by the entry's median time in this run, and {{instr
// Row/entry}} by its instructions per operation (counted for the targets'
// entries only), so that the figures a note reasons with are the ones in
// the document.
var measured = regexp.MustCompile(`\{\{(ns|instr) ([^}\s]+)\}\}`)

func expand(note string, res *results) string {
	return measured.ReplaceAllStringFunc(note, func(m string) string {
		sub := measured.FindStringSubmatch(m)
		kind, name := sub[1], sub[2]
		if kind == "instr" {
			if n, ok := res.instr[name]; ok {
				return strconv.FormatFloat(math.Round(n), 'f', 0, 64)
			}
			return "(" + name + "'s instructions not counted)"
		}
		if e := res.get(name); e != nil && e.ns.ok {
			return fmtNs(e.ns.value)
		}
		return "(" + name + " not run)"
	})
}

// cpuProfile profiles t's benchmark alone and returns pprof's top
// functions by their own time.
func cpuProfile(dir string, t target, benchtime string) (string, error) {
	prof := filepath.Join(dir, t.id+".prof")
	bin := filepath.Join(dir, "bench.test")
	test := exec.Command("go", "test", "-run=NONE", "-bench="+t.benchRegexp(), "-benchtime="+benchtime,
		"-cpuprofile="+prof, "-o", bin, ".")
	test.Stderr = os.Stderr
	fmt.Fprintln(os.Stderr, "report:", strings.Join(test.Args, " "))
	if _, err := test.Output(); err != nil {
		return "", err
	}
	top := exec.Command("go", "tool", "pprof", "-top", "-nodecount="+strconv.Itoa(pprofNodes), bin, prof)
	top.Stderr = os.Stderr
	b, err := top.Output()
	if err != nil {
		return "", err
	}
	return tidyProfile(string(b)), nil
}

// shapes matches the type arguments pprof prints for generic code, such
// as [go.shape.uint8,go.shape.uint8,go.shape.ada913a4…].
var shapes = regexp.MustCompile(`\[go\.shape\.[^\]]*\]`)

// tidyProfile drops the lines of pprof -top that change from run to run
// without saying anything (the binary's path, its build ID, the time of
// day), and shortens function names: statecraft's module path goes, and
// type arguments become […].
func tidyProfile(top string) string {
	var keep []string
	for _, line := range strings.Split(top, "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Time:") {
			continue
		}
		line = strings.ReplaceAll(line, "github.com/statecraft/statecraft/", "")
		keep = append(keep, shapes.ReplaceAllString(line, "[…]"))
	}
	return strings.Join(keep, "\n")
}

func readMachine() machine {
	m := machine{cpu: "unknown", cores: runtime.NumCPU(), goVersion: runtime.Version(), platform: runtime.GOOS + "/" + runtime.GOARCH}
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			m.cpu = strings.TrimSpace(v)
			break
		}
	}
	return m
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// loadAverage returns the three load averages of a /proc/loadavg line.
func loadAverage(line string) string {
	f := strings.Fields(line)
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// peerVersions lists the modules the bench module requires directly,
// other than statecraft, as "module version".
func peerVersions(gomod string) ([]string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	var out []string
	inRequire := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "require ("):
			inRequire = true
			continue
		case line == ")":
			inRequire = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inRequire:
			continue
		}
		if strings.Contains(line, "// indirect") || strings.HasPrefix(line, "github.com/statecraft/") {
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out, nil
}

// countInstructions counts the instructions per operation of each target
// benchmark that ran; without valgrind it says so in the report instead.
func (r *report) countInstructions(dir string) error {
	c, err := newInstrCounter(dir)
	if errors.Is(err, errNoValgrind) {
		r.instrNote = "not counted: " + err.Error()
		fmt.Fprintln(os.Stderr, "report:", r.instrNote)
		return nil
	}
	if err != nil {
		return err
	}
	for i := range r.verdicts {
		v := &r.verdicts[i]
		if v.e == nil || !v.e.ns.ok || v.parallel {
			continue
		}
		allocates := v.e.allocs.ok && v.e.allocs.value > 0
		n, err := c.perOp(v.target, v.e.ns.value, allocates)
		if err != nil {
			return fmt.Errorf("counting the instructions of %s: %v", v.bench, err)
		}
		if r.res.instr == nil {
			r.res.instr = map[string]float64{}
		}
		r.res.instr[v.bench] = n
	}
	return nil
}
