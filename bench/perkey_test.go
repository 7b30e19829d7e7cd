package bench

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// scPerKey returns a registry of 1000 breakers (count windows) keyed by
// host name, each used once, and the host in the middle, the hot key.
func scPerKey(tb testing.TB) (*perkey.Registry[string, *breaker.Breaker], string) {
	tb.Helper()
	r, err := perkey.New(perkey.Config{MaxKeys: 1000}, func(string) (*breaker.Breaker, error) {
		return breaker.New(breaker.Config{WindowDuration: breaker.CountOnly})
	})
	require.NoError(tb, err)
	tb.Cleanup(r.Close)
	hosts := make([]string, 1000)
	for i := range hosts {
		hosts[i] = "host-" + strconv.Itoa(i) + ".example.com"
		l, err := r.Acquire(hosts[i])
		require.NoError(tb, err)
		l.Release()
	}
	return r, hosts[500]
}

// BenchmarkPerKeyHotKey is DESIGN.md's per-key machine lookup of a hot
// key: in scPerKey's registry, a lease on the hot host taken and given
// back (Acquire and Release); the breaker itself is not used. No peer has
// per-key machines, so the row has statecraft's entry alone.
func BenchmarkPerKeyHotKey(b *testing.B) {
	b.Run("statecraft-AcquireRelease", func(b *testing.B) {
		r, host := scPerKey(b)
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
