package enginetest

import (
	"slices"
	"sync"

	"github.com/statecraft/statecraft/engine"
)

// Recorder is an engine.Observer that keeps the records it receives for
// later inspection in tests. The zero Recorder is ready to use, and keeps
// the records of every machine it observes; attach a pointer to it. A
// Recorder is safe for concurrent use and must not be copied.
//
// One observer given to a workflow sees the steps of every machine the
// workflow drives: its per-call machine and the shared machines it makes
// (a breaker, a bulkhead, a cache), interleaved in the order they ran. To
// follow one of them, set Machine: &Recorder{Machine: "circuit breaker"}.
type Recorder struct {
	mu sync.Mutex // guards Records while Observe may be called

	// Machine, when not empty, limits the Recorder to the steps of the
	// machine of that name (engine.Record.Machine: the definition's name,
	// which for a workflow's per-call machine is its config's Name, or
	// "workflow"): Observe drops the records of other machines, so
	// Records, Snapshot, Path and AssertPath see that machine alone. Set
	// it before the Recorder is attached; it must not change after.
	Machine string

	// Records are the records received, in the order received. Each keeps
	// its own copy of Guards, so a driver may reuse its buffers. Read the
	// field directly only when nothing can call Observe any more (the
	// machine has stopped, or the test's own goroutine drives it);
	// otherwise use Snapshot.
	Records []engine.Record
}

// Observe appends a copy of rec to Records, unless Machine is set and rec
// is of another machine.
func (r *Recorder) Observe(rec engine.Record) {
	if r.Machine != "" && rec.Machine != r.Machine {
		return
	}
	rec.Guards = slices.Clone(rec.Guards)
	r.mu.Lock()
	r.Records = append(r.Records, rec)
	r.mu.Unlock()
}

// Snapshot returns a copy of Records, safe to read while the machine runs.
func (r *Recorder) Snapshot() []engine.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.Records)
}

// Path returns the labels of the states the machine went through: the From
// of the first record, then the To of each record whose Transition is not -1
// (the steps that took a transition, internal ones included). It returns nil
// when there are no records.
func (r *Recorder) Path() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Records) == 0 {
		return nil
	}
	path := []string{r.Records[0].From}
	for _, rec := range r.Records {
		if rec.Transition >= 0 {
			path = append(path, rec.To)
		}
	}
	return path
}

// Reset discards the records.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.Records = nil
	r.mu.Unlock()
}
