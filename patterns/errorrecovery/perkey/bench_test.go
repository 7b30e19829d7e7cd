package perkey_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// benchRegistry returns a registry of breakers (count-only windows) over
// n host names, each used once, so that every lookup finds its key in the
// snapshot.
func benchRegistry(b *testing.B, n int) (*perkey.Registry[string, *breaker.Breaker], []string) {
	r, err := perkey.New(perkey.Config{MaxKeys: n}, func(string) (*breaker.Breaker, error) {
		return breaker.New(breaker.Config{WindowDuration: breaker.CountOnly})
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = "host-" + strconv.Itoa(i) + ".example.com"
		for range 2 {
			l, err := r.Acquire(hosts[i])
			if err != nil {
				b.Fatal(err)
			}
			l.Release()
		}
	}
	return r, hosts
}

// BenchmarkHotKey is the per-key lookup of a hot key: Acquire and Release
// of the same host among 1000, the machine not used.
func BenchmarkHotKey(b *testing.B) {
	r, hosts := benchRegistry(b, 1000)
	host := hosts[500]
	b.ReportAllocs()
	for b.Loop() {
		l, _ := r.Acquire(host)
		l.Release()
	}
}

// BenchmarkHotKeyGet is the lookup of a hot key without a lease (Get).
func BenchmarkHotKeyGet(b *testing.B) {
	r, hosts := benchRegistry(b, 1000)
	host := hosts[500]
	b.ReportAllocs()
	for b.Loop() {
		_, _ = r.Get(host)
	}
}

// BenchmarkHotKeyAllowDone adds the breaker's work: a success through the
// host's breaker.
func BenchmarkHotKeyAllowDone(b *testing.B) {
	r, hosts := benchRegistry(b, 1000)
	host := hosts[500]
	b.ReportAllocs()
	for b.Loop() {
		l, _ := r.Acquire(host)
		p, _ := l.Machine().Allow()
		p.Done(nil)
		l.Release()
	}
}

// BenchmarkRotatingKeys uses 1000 hosts in turn: each lookup numbers a
// new use.
func BenchmarkRotatingKeys(b *testing.B) {
	r, hosts := benchRegistry(b, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l, _ := r.Acquire(hosts[i])
		l.Release()
		if i++; i == len(hosts) {
			i = 0
		}
	}
}

// BenchmarkHotKeyParallel is the hot-key lookup from GOMAXPROCS
// goroutines at once.
func BenchmarkHotKeyParallel(b *testing.B) {
	r, hosts := benchRegistry(b, 1000)
	host := hosts[500]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, _ := r.Acquire(host)
			l.Release()
		}
	})
}

// BenchmarkChurn creates a new key at every call in a registry of 1000:
// each call evicts the least recently used key and closes its breaker.
func BenchmarkChurn(b *testing.B) {
	r, _ := benchRegistry(b, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l, _ := r.Acquire("new-" + strconv.Itoa(i))
		l.Release()
		i++
	}
}

// BenchmarkFloorMapAndTwoAdds is the floor of the hot-key lookup on the
// machine that runs it, for comparison in the same run: a lookup in a Go
// map of 1000 host names and two atomic adds on what it finds.
func BenchmarkFloorMapAndTwoAdds(b *testing.B) {
	type counted struct{ n atomic.Int64 }
	m := make(map[string]*counted)
	for i := range 1000 {
		m["host-"+strconv.Itoa(i)+".example.com"] = new(counted)
	}
	host := "host-500.example.com"
	for b.Loop() {
		c := m[host]
		c.n.Add(1)
		c.n.Add(-1)
	}
}

// BenchmarkFloorMap is the floor of Get: the lookup alone.
func BenchmarkFloorMap(b *testing.B) {
	m := make(map[string]*int)
	for i := range 1000 {
		m["host-"+strconv.Itoa(i)+".example.com"] = new(int)
	}
	host := "host-500.example.com"
	var sink *int
	for b.Loop() {
		sink = m[host]
	}
	_ = sink
}
