//go:build !race

package bench

// raceEnabled reports whether the race detector is on; its
// instrumentation allocates, so allocation counts are not checked.
const raceEnabled = false
