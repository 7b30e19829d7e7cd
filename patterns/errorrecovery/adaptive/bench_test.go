package adaptive_test

import (
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

// BenchmarkAcquireDone is admission under the limit and the release that
// records the latency, on the real clock: two clock reads, a few atomic
// adds and the window's mutex; a window closes (one step of the machine)
// once a second.
func BenchmarkAcquireDone(b *testing.B) {
	l, err := adaptive.New(adaptive.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := l.Acquire()
		if err != nil {
			b.Fatal(err)
		}
		p.Done(nil)
	}
}

// BenchmarkAcquireDoneParallel is the same from GOMAXPROCS goroutines,
// fewer than the initial limit.
func BenchmarkAcquireDoneParallel(b *testing.B) {
	l, err := adaptive.New(adaptive.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := l.Acquire()
			if err != nil {
				b.Error(err)
				return
			}
			p.Done(nil)
		}
	})
}

// BenchmarkReject is a call over the limit.
func BenchmarkReject(b *testing.B) {
	l, err := adaptive.New(adaptive.Config{InitialLimit: 1})
	if err != nil {
		b.Fatal(err)
	}
	p, _ := l.Acquire()
	defer p.Drop()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Acquire(); err == nil {
			b.Fatal("admitted over the limit")
		}
	}
}
