package engine

import "context"

// DoneCounter is implemented by clocks that count, among the goroutines
// waiting on them, code blocked on the Done channel of a context whose
// deadline runs on them, as enginetest.Clock does in BlockUntilWaiters.
// No goroutine can be seen blocked on a channel, so the contexts tell the
// clock instead: a context of WithDeadline or WithTimeout on such a clock
// calls CountDone the first time its Done is asked for (asking for Done
// is how code starts waiting on it), and so do the attempt contexts of
// patterns/errorrecovery. Statecraft's own waits and derivations ask
// through Quiet, which counts nothing.
type DoneCounter interface {
	Clock
	// CountDone reports that code may be blocked on done, the Done channel
	// of a context whose deadline runs on this clock, until done is
	// closed. Reporting a channel again changes nothing.
	CountDone(done <-chan struct{})
}

// Quiet returns a view of ctx whose Done does not count as a wait on a
// DoneCounter clock, with ctx's deadline, error and values. Statecraft
// waits on, and derives contexts from, the contexts it is given through
// Quiet, so that only code outside it (the function a workflow protects,
// a test) makes them count: a backoff asleep on the caller's context
// counts as that sleep alone, and leaves nothing counted once it ends.
// Code that takes Done only to pass it on, and not to block on it, may do
// the same.
//
// A context that counts its Done has a method Quiet() context.Context
// returning such a view; for any other context, Quiet returns ctx. It
// allocates nothing.
func Quiet(ctx context.Context) context.Context {
	if q, ok := ctx.(interface{ Quiet() context.Context }); ok {
		return q.Quiet()
	}
	return ctx
}
