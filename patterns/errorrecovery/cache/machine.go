package cache

import (
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// State is a state of the cache entry machine: where one key's entry
// stands in its lifecycle, as a lookup sees it. Fresh, Stale and Expired
// follow from the age of the entry's value at the time of the lookup;
// Loading from a flight (a load of the key's value) in progress.
type State uint8

// The states. Every run of the machine starts in StateUnknown and is
// placed by EventRecall; StateExpired is a choice state, left at once.
const (
	StateUnknown State = iota // the run has not read the entry's record yet
	StateAbsent               // no value, and no flight for the key
	StateLoading              // a flight is in progress for the key; others may join it. Any value kept is stale
	StateFresh                // a value younger than TTL: it answers lookups
	StateStale                // a value past TTL, kept to answer failures (within MaxStale)
	StateExpired              // a value past all use: it is dropped at once
)

var stateNames = [...]string{"Unknown", "Absent", "Loading", "Fresh", "Stale", "Expired"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string {
	return enum.String(stateNames[:], s, "cache.State")
}

// Event is an event of the cache entry machine. Each run fires
// EventRecall, then the one event its caller asks about.
type Event uint8

// The events.
const (
	EventRecall  Event = iota // the entry's record is read, and the guards place it
	EventLookup               // a call asks for a fresh value, else for the flight to join or lead (Cache.Lookup)
	EventRead                 // a failed call asks for any value that may answer: fresh or stale (Cache.Get)
	EventStore                // the function's result is stored (Cache.Put)
	EventRelease              // the flight landed: its leader hands its answer to those who joined (Flight.Land)
	EventEvict                // the value is dropped: least recently used, past use, or Cache.Clear
)

var eventNames = [...]string{"recall", "lookup", "read", "store", "release", "evict"}

// String returns the event's name.
func (e Event) String() string {
	return enum.String(eventNames[:], e, "cache.Event")
}

// Data is the cache entry machine's data: one key's record as a run reads
// it, and what the run decides. A Cache starts each run with the entry's
// record and carries out the decision afterwards, under its lock: the
// actions of Definition only write the decision here. The accessors let
// guards of a custom definition, and observers, read the record.
type Data struct {
	cfg     *Config
	age     time.Duration // of the value, at the time of the run; zero when there is none
	held    bool          // the entry holds a value
	loading bool          // a flight is in progress for the key

	verdict verdict // what the run's caller is answered
	effects effect  // what becomes of the entry's record
}

// Config returns the configuration of the cache the entry is in, every
// zero field resolved to its default (see Cache.Config).
func (d *Data) Config() Config { return *d.cfg }

// Age returns the age of the entry's value, and false when the entry
// holds none. A run reads the cache's clock once, when it starts, so
// every guard of one run sees the same age; a value stored during the run
// is 0 old.
func (d *Data) Age() (time.Duration, bool) { return d.age, d.held }

// Loading reports whether a flight is in progress for the key.
func (d *Data) Loading() bool { return d.loading }

// verdict is what a run of the entry machine answers its caller.
type verdict uint8

const (
	verdictNone  verdict = iota // the cache has no answer: the caller goes on without it
	verdictFresh                // the value answers, as fresh
	verdictStale                // the value answers, as stale: only a failed call asks for it
	verdictJoin                 // wait for the flight, and share its answer
	verdictLead                 // make the call; later lookups join its flight until it lands
)

// effect is what a run of the entry machine does to the entry's record, a
// bit each, carried out in this order.
type effect uint8

const (
	effectDropped  effect = 1 << iota // the value is dropped
	effectStored                      // the caller's value is stored, now
	effectReleased                    // the flight is over
)

type machine = states.Machine[State, Event, Data]

// The actions: each writes a decision into the run's data, and keeps the
// record there up to date for the guards of the run's later steps.
var (
	ceServe = states.Do("serve", func(_ context.Context, m machine) error {
		m.Data().verdict = verdictFresh
		return nil
	})
	ceServeStale = states.Do("serve stale", func(_ context.Context, m machine) error {
		m.Data().verdict = verdictStale
		return nil
	})
	ceJoin = states.Do("join", func(_ context.Context, m machine) error {
		m.Data().verdict = verdictJoin
		return nil
	})
	ceLead = states.Do("lead", func(_ context.Context, m machine) error {
		d := m.Data()
		d.verdict, d.loading = verdictLead, true
		return nil
	})
	ceStore = states.Do("keep value", func(_ context.Context, m machine) error {
		d := m.Data()
		d.held, d.age = true, 0
		d.effects |= effectStored
		return nil
	})
	ceDrop = states.Do("drop", func(_ context.Context, m machine) error {
		d := m.Data()
		d.held, d.age = false, 0
		d.effects |= effectDropped
		return nil
	})
	ceHandOver = states.Do("hand over", func(_ context.Context, m machine) error {
		d := m.Data()
		d.loading = false
		d.effects |= effectReleased
		return nil
	})
)

// The guards, on the record.
var (
	ceFresh = transitions.If("age < TTL", func(m machine) bool {
		d := m.Data()
		return d.held && d.age < d.cfg.TTL
	})
	ceKeptStale = transitions.If("kept stale", func(m machine) bool {
		return m.Data().keptStale()
	})
	cePastUse = transitions.If("past use", func(m machine) bool {
		d := m.Data()
		return d.held && d.age >= d.cfg.TTL && !d.keptStale()
	})
	ceLoading = transitions.If("call in flight", func(m machine) bool {
		return m.Data().loading
	})
	// The guard keeps its name, the one a reader of the diagram knows
	// coalescing by: it holds unless Config.DisableCoalescing is set.
	ceCoalesce = transitions.If("Coalesce", func(m machine) bool {
		return !m.Data().cfg.DisableCoalescing
	})
)

// keptStale reports whether the entry holds a value past its TTL but kept
// to answer failures: MaxStale is not negative, and zero (until evicted)
// or more than the time since the TTL ran out. The time since is
// age - TTL, which cannot overflow as TTL + MaxStale could.
func (d *Data) keptStale() bool {
	c := d.cfg
	return d.held && d.age >= c.TTL && c.MaxStale >= 0 && (c.MaxStale == 0 || d.age-c.TTL < c.MaxStale)
}

var definition = sync.OnceValue(buildDefinition)

// Definition returns the cache entry machine that every Cache runs unless
// given another with engine.WithDefinition. It decides what a key's entry
// answers and what becomes of it. Its settings are in its data, so one
// definition serves every cache.
//
// Each lookup, read, store, release and eviction is one run, over the
// entry's record (when its value was stored, whether a flight is in
// progress). recall places the entry, the guards tried in this order:
//
//	Unknown --recall [age < TTL]------> Fresh
//	Unknown --recall [past use]-------> Expired --evict / drop--> Loading or Absent
//	Unknown --recall [call in flight]--> Loading
//	Unknown --recall [kept stale]-----> Stale
//	Unknown --recall-------------------> Absent
//
// Then the caller's event decides the answer: in Fresh, a lookup or a read
// is served; a lookup in Absent or Stale leads the flight that loads the
// value (unless coalescing is disabled), and in Loading joins it; a read,
// which only a failed call makes, is served stale in Stale, and in
// Loading when a value is kept stale. A store makes the entry Fresh; a
// release ends the flight; an eviction drops the value. A transition with
// no action answers nothing: a lookup in Absent or Stale without
// coalescing is a plain miss, a read in Absent finds nothing to serve. So
// does an event a state has no transition for, which the default
// definition keeps for what cannot happen (a release in Absent or Stale,
// where no flight is in progress).
//
// The guard labels name the config's ideas: "Coalesce" holds unless
// Config.DisableCoalescing is set, "kept stale" when MaxStale is not
// negative and has not run out.
func Definition() *fsm.Definition[State, Event, Data] {
	return definition()
}

func buildDefinition() *fsm.Definition[State, Event, Data] {
	b := fsm.New[State, Event, Data]("cache entry")
	b.CommitRegardless() // its steps are the cache's bookkeeping: never stopped halfway
	b.State(StateUnknown, states.Initial)
	b.State(StateAbsent, states.Normal)
	b.State(StateLoading, states.Normal)
	b.State(StateFresh, states.Normal)
	b.State(StateStale, states.Normal)
	b.Choice(StateExpired, states.Chooser("evict", func(context.Context, machine) (Event, error) {
		return EventEvict, nil
	}))

	b.On(StateUnknown, EventRecall, StateFresh).When(ceFresh)
	b.On(StateUnknown, EventRecall, StateExpired).When(cePastUse)
	b.On(StateUnknown, EventRecall, StateLoading).When(ceLoading)
	b.On(StateUnknown, EventRecall, StateStale).When(ceKeptStale)
	b.On(StateUnknown, EventRecall, StateAbsent)

	b.On(StateExpired, EventEvict, StateLoading).When(ceLoading).Do(ceDrop)
	b.On(StateExpired, EventEvict, StateAbsent).Do(ceDrop)

	b.Internal(StateFresh, EventLookup).Do(ceServe)
	b.Internal(StateFresh, EventRead).Do(ceServe)
	b.Internal(StateFresh, EventStore).Do(ceStore)
	b.Internal(StateFresh, EventRelease).Do(ceHandOver)
	b.On(StateFresh, EventEvict, StateAbsent).Do(ceDrop)

	b.On(StateStale, EventLookup, StateLoading).When(ceCoalesce).Do(ceLead)
	b.Internal(StateStale, EventLookup)
	b.Internal(StateStale, EventRead).Do(ceServeStale)
	b.On(StateStale, EventStore, StateFresh).Do(ceStore)
	b.On(StateStale, EventEvict, StateAbsent).Do(ceDrop)

	b.Internal(StateLoading, EventLookup).Do(ceJoin)
	b.Internal(StateLoading, EventRead).When(ceKeptStale).Do(ceServeStale)
	b.Internal(StateLoading, EventRead)
	b.On(StateLoading, EventStore, StateFresh).Do(ceStore)
	b.On(StateLoading, EventRelease, StateStale).When(ceKeptStale).Do(ceHandOver)
	b.On(StateLoading, EventRelease, StateAbsent).Do(ceHandOver)
	b.Internal(StateLoading, EventEvict).Do(ceDrop)

	b.On(StateAbsent, EventLookup, StateLoading).When(ceCoalesce).Do(ceLead)
	b.Internal(StateAbsent, EventLookup)
	b.Internal(StateAbsent, EventRead)
	b.On(StateAbsent, EventStore, StateFresh).Do(ceStore)
	b.Internal(StateAbsent, EventEvict)
	return b.MustBuild()
}
