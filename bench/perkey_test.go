package bench

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// BenchmarkPerKeyHotKey is DESIGN.md's per-key machine lookup of a hot
// key: a registry of 1000 breakers keyed by host name, each used before
// the timer starts, and a lease on the same host taken and given back
// (Acquire and Release); the breaker itself is not used. No peer has
// per-key machines, so the row has statecraft's entry alone.
func BenchmarkPerKeyHotKey(b *testing.B) {
	b.Run("statecraft-AcquireRelease", func(b *testing.B) {
		r, err := perkey.New(perkey.Config{MaxKeys: 1000}, func(string) (*breaker.Breaker, error) {
			return breaker.New(breaker.Config{WindowDuration: breaker.CountOnly})
		})
		require.NoError(b, err)
		b.Cleanup(r.Close)
		hosts := make([]string, 1000)
		for i := range hosts {
			hosts[i] = "host-" + strconv.Itoa(i) + ".example.com"
			l, err := r.Acquire(hosts[i])
			require.NoError(b, err)
			l.Release()
		}
		host := hosts[500]
		b.ReportAllocs()
		for b.Loop() {
			l, err := r.Acquire(host)
			if err != nil {
				b.Fatal(err)
			}
			l.Release()
		}
	})
}
