package errorrecovery

import (
	"context"
	"github.com/statecraft/statecraft/internal/enum"
	"sync"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// CacheEntryState is a state of the cache entry machine: where one key's
// entry stands in its lifecycle, as a lookup sees it. Fresh, Stale and
// Expired follow from the age of the entry's value at the time of the
// lookup; Loading from a call in flight for the key.
type CacheEntryState uint8

// The states. Every run of the machine starts in Unknown and is placed by
// the recall event; Expired is a choice state, left at once.
const (
	CacheEntryUnknown CacheEntryState = iota // the run has not read the entry's record yet
	CacheEntryAbsent                         // no value, and no call in flight for the key
	CacheEntryLoading                        // a call is in flight for the key; others may join it. Any value kept is stale
	CacheEntryFresh                          // a value younger than TTL: it answers lookups
	CacheEntryStale                          // a value past TTL, kept to answer failures (StaleOnError, within MaxStale)
	CacheEntryExpired                        // a value past all use: it is dropped at once
)

var cacheEntryStateNames = [...]string{"Unknown", "Absent", "Loading", "Fresh", "Stale", "Expired"}

// String returns the state's name, as diagrams and traces print it.
func (s CacheEntryState) String() string {
	return enum.String(cacheEntryStateNames[:], s, "CacheEntryState")
}

// CacheEntryEvent is an event of the cache entry machine. Each run fires
// Recall, then the one event its caller asks about.
type CacheEntryEvent uint8

// The events.
const (
	CacheEntryRecall  CacheEntryEvent = iota // the entry's record is read, and the guards place it
	CacheEntryLookup                         // a call asks for a fresh value, else for the call in flight to join or lead
	CacheEntryRead                           // a failed call (or ResultCache.Get) asks for any value that may answer: fresh or stale
	CacheEntryStore                          // the function's result (or Put's value) is stored
	CacheEntryRelease                        // the call in flight ended: its leader hands its answer to those who joined
	CacheEntryEvict                          // the value is dropped: least recently used, past use, or Clear
)

var cacheEntryEventNames = [...]string{"recall", "lookup", "read", "store", "release", "evict"}

// String returns the event's name.
func (e CacheEntryEvent) String() string {
	return enum.String(cacheEntryEventNames[:], e, "CacheEntryEvent")
}

// CacheEntryData is the cache entry machine's data: one key's record as a
// run reads it, and what the run decides. A ResultCache starts each run
// with the entry's record and carries out the decision afterwards, under
// its lock: the actions of CacheEntryDefinition only write the decision
// here. The accessors let guards of a custom definition, and observers,
// read the record.
type CacheEntryData struct {
	cfg     *CacheConfig
	age     time.Duration // of the value, at the time of the run; zero when there is none
	held    bool          // the entry holds a value
	loading bool          // a call is in flight for the key

	verdict cacheVerdict // what the run's caller is answered
	effects cacheEffect  // what becomes of the entry's record
}

// Config returns the configuration of the cache the entry is in.
func (d *CacheEntryData) Config() CacheConfig { return *d.cfg }

// Age returns the age of the entry's value, and false when the entry
// holds none. A run reads the cache's clock once, when it starts, so
// every guard of one run sees the same age; a value stored during the run
// is 0 old.
func (d *CacheEntryData) Age() (time.Duration, bool) { return d.age, d.held }

// Loading reports whether a call is in flight for the key.
func (d *CacheEntryData) Loading() bool { return d.loading }

// cacheVerdict is what a run of the entry machine answers its caller.
type cacheVerdict uint8

const (
	cacheNothing    cacheVerdict = iota // the cache has no answer: the caller goes on without it
	cacheServeFresh                     // the value answers, as fresh
	cacheServeStale                     // the value answers, as stale: only a failed call asks for it
	cacheJoin                           // wait for the call in flight, and share its answer
	cacheLead                           // make the call; later lookups join it until it is released
)

// cacheEffect is what a run of the entry machine does to the entry's
// record, a bit each, carried out in this order.
type cacheEffect uint8

const (
	cacheDropped  cacheEffect = 1 << iota // the value is dropped
	cacheStored                           // the caller's value is stored, now
	cacheReleased                         // the call in flight is over
)

type cacheEntryMachine = states.Machine[CacheEntryState, CacheEntryEvent, CacheEntryData]

// The actions: each writes a decision into the run's data, and keeps the
// record there up to date for the guards of the run's later steps.
var (
	ceServe = states.Do("serve", func(_ context.Context, m cacheEntryMachine) error {
		m.Data().verdict = cacheServeFresh
		return nil
	})
	ceServeStale = states.Do("serve stale", func(_ context.Context, m cacheEntryMachine) error {
		m.Data().verdict = cacheServeStale
		return nil
	})
	ceJoin = states.Do("join", func(_ context.Context, m cacheEntryMachine) error {
		m.Data().verdict = cacheJoin
		return nil
	})
	ceLead = states.Do("lead", func(_ context.Context, m cacheEntryMachine) error {
		d := m.Data()
		d.verdict, d.loading = cacheLead, true
		return nil
	})
	ceStore = states.Do("keep value", func(_ context.Context, m cacheEntryMachine) error {
		d := m.Data()
		d.held, d.age = true, 0
		d.effects |= cacheStored
		return nil
	})
	ceDrop = states.Do("drop", func(_ context.Context, m cacheEntryMachine) error {
		d := m.Data()
		d.held, d.age = false, 0
		d.effects |= cacheDropped
		return nil
	})
	ceHandOver = states.Do("hand over", func(_ context.Context, m cacheEntryMachine) error {
		d := m.Data()
		d.loading = false
		d.effects |= cacheReleased
		return nil
	})
)

// The guards, on the record.
var (
	ceFresh = transitions.If("age < TTL", func(m cacheEntryMachine) bool {
		d := m.Data()
		return d.held && d.age < d.cfg.TTL
	})
	ceKeptStale = transitions.If("kept stale", func(m cacheEntryMachine) bool {
		return m.Data().keptStale()
	})
	cePastUse = transitions.If("past use", func(m cacheEntryMachine) bool {
		d := m.Data()
		return d.held && d.age >= d.cfg.TTL && !d.keptStale()
	})
	ceLoading = transitions.If("call in flight", func(m cacheEntryMachine) bool {
		return m.Data().loading
	})
	ceCoalesce = transitions.If("Coalesce", func(m cacheEntryMachine) bool {
		return m.Data().cfg.Coalesce
	})
)

// keptStale reports whether the entry holds a value past its TTL but kept
// to answer failures.
func (d *CacheEntryData) keptStale() bool {
	c := d.cfg
	return d.held && d.age >= c.TTL && c.StaleOnError && (c.MaxStale == 0 || d.age < c.TTL+c.MaxStale)
}

var cacheEntryDefinition = sync.OnceValue(buildCacheEntryDefinition)

// CacheEntryDefinition returns the cache entry machine that every
// ResultCache runs unless given another with WithCacheDefinition. It
// decides what a key's entry answers and what becomes of it. Its settings
// are in its data, so one definition serves every cache.
//
// Each lookup, store, release and eviction is one run, over the entry's
// record (when its value was stored, whether a call is in flight). recall
// places the entry, the guards tried in this order:
//
//	Unknown --recall [age < TTL]------> Fresh
//	Unknown --recall [past use]-------> Expired --evict / drop--> Loading or Absent
//	Unknown --recall [call in flight]--> Loading
//	Unknown --recall [kept stale]-----> Stale
//	Unknown --recall-------------------> Absent
//
// Then the caller's event decides the answer: in Fresh, a lookup or a read
// is served; a lookup in Absent or Stale leads the call that loads the
// value (with Coalesce), and in Loading joins it; a read, which only a
// failed call makes, is served stale in Stale, and in Loading when a value
// is kept stale. A store makes the entry Fresh; a release ends the call in
// flight; an eviction drops the value. A transition with no action
// answers nothing: a lookup in Absent or Stale without Coalesce is a
// plain miss, a read in Absent finds nothing to serve. So does an event a
// state has no transition for, which the default definition keeps for
// what cannot happen (a release in Absent or Stale, where no call is in
// flight).
func CacheEntryDefinition() *fsm.Definition[CacheEntryState, CacheEntryEvent, CacheEntryData] {
	return cacheEntryDefinition()
}

func buildCacheEntryDefinition() *fsm.Definition[CacheEntryState, CacheEntryEvent, CacheEntryData] {
	b := fsm.New[CacheEntryState, CacheEntryEvent, CacheEntryData]("cache entry")
	b.CommitRegardless() // its steps are the cache's bookkeeping: never stopped halfway
	b.State(CacheEntryUnknown, states.Initial)
	b.State(CacheEntryAbsent, states.Normal)
	b.State(CacheEntryLoading, states.Normal)
	b.State(CacheEntryFresh, states.Normal)
	b.State(CacheEntryStale, states.Normal)
	b.Choice(CacheEntryExpired, states.Chooser("evict", func(context.Context, cacheEntryMachine) (CacheEntryEvent, error) {
		return CacheEntryEvict, nil
	}))

	b.On(CacheEntryUnknown, CacheEntryRecall, CacheEntryFresh).When(ceFresh)
	b.On(CacheEntryUnknown, CacheEntryRecall, CacheEntryExpired).When(cePastUse)
	b.On(CacheEntryUnknown, CacheEntryRecall, CacheEntryLoading).When(ceLoading)
	b.On(CacheEntryUnknown, CacheEntryRecall, CacheEntryStale).When(ceKeptStale)
	b.On(CacheEntryUnknown, CacheEntryRecall, CacheEntryAbsent)

	b.On(CacheEntryExpired, CacheEntryEvict, CacheEntryLoading).When(ceLoading).Do(ceDrop)
	b.On(CacheEntryExpired, CacheEntryEvict, CacheEntryAbsent).Do(ceDrop)

	b.Internal(CacheEntryFresh, CacheEntryLookup).Do(ceServe)
	b.Internal(CacheEntryFresh, CacheEntryRead).Do(ceServe)
	b.Internal(CacheEntryFresh, CacheEntryStore).Do(ceStore)
	b.Internal(CacheEntryFresh, CacheEntryRelease).Do(ceHandOver)
	b.On(CacheEntryFresh, CacheEntryEvict, CacheEntryAbsent).Do(ceDrop)

	b.On(CacheEntryStale, CacheEntryLookup, CacheEntryLoading).When(ceCoalesce).Do(ceLead)
	b.Internal(CacheEntryStale, CacheEntryLookup)
	b.Internal(CacheEntryStale, CacheEntryRead).Do(ceServeStale)
	b.On(CacheEntryStale, CacheEntryStore, CacheEntryFresh).Do(ceStore)
	b.On(CacheEntryStale, CacheEntryEvict, CacheEntryAbsent).Do(ceDrop)

	b.Internal(CacheEntryLoading, CacheEntryLookup).Do(ceJoin)
	b.Internal(CacheEntryLoading, CacheEntryRead).When(ceKeptStale).Do(ceServeStale)
	b.Internal(CacheEntryLoading, CacheEntryRead)
	b.On(CacheEntryLoading, CacheEntryStore, CacheEntryFresh).Do(ceStore)
	b.On(CacheEntryLoading, CacheEntryRelease, CacheEntryStale).When(ceKeptStale).Do(ceHandOver)
	b.On(CacheEntryLoading, CacheEntryRelease, CacheEntryAbsent).Do(ceHandOver)
	b.Internal(CacheEntryLoading, CacheEntryEvict).Do(ceDrop)

	b.On(CacheEntryAbsent, CacheEntryLookup, CacheEntryLoading).When(ceCoalesce).Do(ceLead)
	b.Internal(CacheEntryAbsent, CacheEntryLookup)
	b.Internal(CacheEntryAbsent, CacheEntryRead)
	b.On(CacheEntryAbsent, CacheEntryStore, CacheEntryFresh).Do(ceStore)
	b.Internal(CacheEntryAbsent, CacheEntryEvict)
	return b.MustBuild()
}
