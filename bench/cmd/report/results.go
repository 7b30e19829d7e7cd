package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// measure is one benchstat summary: the median of a benchmark's runs for
// one unit, and the half-width of its confidence interval as a fraction
// of the median (NaN when benchstat could not compute one).
type measure struct {
	value float64
	ci    float64
	ok    bool // the unit was reported
}

// entry is one library's API in a row: Toggle/stateless-Fire is the
// entry stateless-Fire of the row Toggle.
type entry struct {
	name   string // library-API, as in the benchmark name
	lib    string // before the first hyphen
	ns     measure
	bytes  measure
	allocs measure
}

func (e *entry) statecraft() bool { return e.lib == "statecraft" }

// row is the entries of one benchmark (with its parameters), such as
// SharedBreaker/goroutines=8, in the order the benchmarks ran.
type row struct {
	name    string // without the Benchmark prefix and the entry
	section string // the top-level benchmark: SharedBreaker
	param   string // what follows the section: goroutines=8; "" when none
	entries []*entry
}

// results are the rows of a run, in order.
type results struct {
	rows  []*row
	index map[string]*row
	instr map[string]float64 // instructions per operation by Row/entry, where counted
}

// procsSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// splitName turns "SharedBreaker/goroutines=8/statecraft-Call-2" into its
// row ("SharedBreaker/goroutines=8") and entry ("statecraft-Call"), and
// reports the GOMAXPROCS suffix ("2"; "" when absent).
func splitName(full string) (rowName, entryName, procs string) {
	name := full
	if m := procsSuffix.FindString(name); m != "" {
		name, procs = strings.TrimSuffix(name, m), m[1:]
	}
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name, procs
	}
	return name[:i], name[i+1:], procs
}

// parseBenchstatCSV reads the output of "benchstat -format=csv" for one
// input file: a block per unit, each a header line naming the file, a
// line naming the unit, then a line per benchmark (name, median, CI) and
// a geomean line. It returns the rows and the GOMAXPROCS suffix seen.
func parseBenchstatCSV(r io.Reader) (*results, string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	res := &results{index: map[string]*row{}}
	unit, procs := "", ""
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
		if len(rec) < 2 {
			continue
		}
		switch {
		case rec[0] == "" && len(rec) >= 3 && rec[2] == "CI":
			unit = rec[1]
			continue
		case rec[0] == "" || rec[0] == "geomean":
			continue
		}
		if unit == "" {
			return nil, "", fmt.Errorf("benchstat csv: a result before any unit: %q", rec)
		}
		rowName, entryName, p := splitName(rec[0])
		if p != "" {
			procs = p
		}
		m, err := parseMeasure(rec)
		if err != nil {
			return nil, "", fmt.Errorf("benchstat csv: %s: %v", rec[0], err)
		}
		e := res.entry(rowName, entryName)
		switch unit {
		case "sec/op":
			m.value *= 1e9
			e.ns = m
		case "B/op":
			e.bytes = m
		case "allocs/op":
			e.allocs = m
		}
	}
	if len(res.rows) == 0 {
		return nil, "", fmt.Errorf("benchstat csv: no results")
	}
	return res, procs, nil
}

func parseMeasure(rec []string) (measure, error) {
	v, err := strconv.ParseFloat(rec[1], 64)
	if err != nil {
		return measure{}, err
	}
	m := measure{value: v, ci: math.NaN(), ok: true}
	if len(rec) > 2 {
		if p, err := strconv.ParseFloat(strings.TrimSuffix(rec[2], "%"), 64); err == nil && strings.HasSuffix(rec[2], "%") {
			m.ci = p / 100
		}
	}
	return m, nil
}

// entry returns the entry of a row, adding both as needed.
func (res *results) entry(rowName, entryName string) *entry {
	r := res.index[rowName]
	if r == nil {
		r = &row{name: rowName, section: rowName}
		if i := strings.IndexByte(rowName, '/'); i >= 0 {
			r.section, r.param = rowName[:i], rowName[i+1:]
		}
		res.index[rowName] = r
		res.rows = append(res.rows, r)
	}
	for _, e := range r.entries {
		if e.name == entryName {
			return e
		}
	}
	lib, _, _ := strings.Cut(entryName, "-")
	e := &entry{name: entryName, lib: lib}
	r.entries = append(r.entries, e)
	return e
}

// get returns the entry named "Row/entry", or nil.
func (res *results) get(full string) *entry {
	rowName, entryName, _ := splitName(full)
	r := res.index[rowName]
	if r == nil {
		return nil
	}
	for _, e := range r.entries {
		if e.name == entryName {
			return e
		}
	}
	return nil
}

// bestPeer returns the fastest entry of r not from statecraft that
// passes keep, or nil.
func (r *row) bestPeer(keep func(*entry) bool) *entry {
	var best *entry
	for _, e := range r.entries {
		if e.statecraft() || !e.ns.ok || (keep != nil && !keep(e)) {
			continue
		}
		if best == nil || e.ns.value < best.ns.value {
			best = e
		}
	}
	return best
}

// sections returns the section names: those of sectionOrder that ran, in
// that order, then any others in the order they ran.
func (res *results) sections() []string {
	ran := map[string]bool{}
	for _, r := range res.rows {
		ran[r.section] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range sectionOrder {
		if ran[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, r := range res.rows {
		if !seen[r.section] {
			seen[r.section] = true
			out = append(out, r.section)
		}
	}
	return out
}

// ordered returns the rows section by section, in the order of sections.
func (res *results) ordered() []*row {
	var out []*row
	for _, s := range res.sections() {
		out = append(out, res.rowsOf(s)...)
	}
	return out
}

// rowsOf returns the rows of a section, in order.
func (res *results) rowsOf(section string) []*row {
	var out []*row
	for _, r := range res.rows {
		if r.section == section {
			out = append(out, r)
		}
	}
	return out
}
