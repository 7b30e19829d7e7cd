package perkey_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// probe is a machine that knows whether it is in use, and checks when it
// is closed that it is not, and is closed once.
type probe struct {
	key    int
	inUse  atomic.Int64
	closed atomic.Bool
	log    *closeLog
}

func (p *probe) use(t testing.TB) {
	p.inUse.Add(1)
	if p.closed.Load() {
		t.Errorf("key %d: machine used after it was closed", p.key)
	}
}

func (p *probe) done() { p.inUse.Add(-1) }

func (p *probe) Close() {
	if n := p.inUse.Load(); n != 0 {
		panic(fmt.Sprintf("key %d: closed with %d uses in flight", p.key, n))
	}
	if p.closed.Swap(true) {
		panic(fmt.Sprintf("key %d: closed twice", p.key))
	}
	p.log.add(p.key)
}

// closeLog records the keys whose machines were closed, in order.
type closeLog struct {
	mu   sync.Mutex
	keys []int
}

func (l *closeLog) add(k int) {
	l.mu.Lock()
	l.keys = append(l.keys, k)
	l.mu.Unlock()
}

func (l *closeLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.keys...)
}

// newProbes returns a registry of probes on clock, and the log of their
// closing.
func newProbes(t testing.TB, cfg perkey.Config, clock engine.Clock) (*perkey.Registry[int, *probe], *closeLog) {
	t.Helper()
	log := &closeLog{}
	r, err := perkey.New(cfg, func(k int) (*probe, error) {
		return &probe{key: k, log: log}, nil
	}, engine.WithClock(clock))
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r, log
}

func manualClock() *enginetest.Clock { return enginetest.NewClock(time.Time{}) }

// touch acquires and at once releases key's machine.
func touch(t testing.TB, r *perkey.Registry[int, *probe], key int) *probe {
	t.Helper()
	l, err := r.Acquire(key)
	require.NoError(t, err)
	p := l.Machine()
	l.Release()
	return p
}

type stringsBuilder = strings.Builder

var (
	writeDot     = fsm.WriteDot
	writeMermaid = fsm.WriteMermaid
)
