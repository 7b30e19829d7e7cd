package bulkhead

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/statecraft/statecraft/engine"
)

// pool is the worker-pool mode of a Bulkhead: MaxConcurrent goroutines
// that run admitted calls. The bulkhead's slots bound the calls handed to
// the pool, so there are never more jobs than workers and jobs, buffered
// to MaxConcurrent, never blocks a sender.
type pool struct {
	b *Bulkhead

	mu     sync.RWMutex // held to read closed while sending on jobs, and to close jobs
	closed bool         // set with jobs closed; under mu
	jobs   chan *job

	live atomic.Int64  // workers running
	done chan struct{} // closed by the last worker to exit
}

// job is one call handed to a worker, and what became of it.
type job struct {
	ctx  context.Context
	fn   task
	done chan struct{} // closed by the worker when fn has ended and the slot is released

	err      error
	panicked bool
	value    any  // the panic's value
	goexit   bool // fn called runtime.Goexit
}

func newPool(b *Bulkhead, n int) *pool {
	p := &pool{b: b, jobs: make(chan *job, n), done: make(chan struct{})}
	p.live.Store(int64(n))
	for range n {
		go p.work()
	}
	return p
}

// task is the function a job runs: a protectTask for Protect, an
// *executeTask for Execute, which keeps the function's result.
type task interface {
	run(context.Context) error
}

// protectTask is Protect's function as a task; converting it to one
// allocates nothing.
type protectTask func(context.Context) error

func (f protectTask) run(ctx context.Context) error { return f(ctx) }

// executeTask is Execute's function as a task, with the job it is handed
// over in and the result it returns, so that they take one allocation.
type executeTask[T any] struct {
	job
	fn func(context.Context) (T, error)
	v  T
}

func (t *executeTask[T]) run(ctx context.Context) (err error) {
	t.v, err = t.fn(ctx)
	return err
}

// protect hands fn to a worker, as run does.
func (p *pool) protect(ctx context.Context, fn func(context.Context) error) error {
	return p.run(&job{ctx: ctx, fn: protectTask(fn), done: make(chan struct{})})
}

// execute hands fn to a worker, as run does, and returns its result.
func execute[T any](ctx context.Context, p *pool, fn func(context.Context) (T, error)) (T, error) {
	t := &executeTask[T]{fn: fn}
	t.job = job{ctx: ctx, fn: t, done: make(chan struct{})}
	err := p.run(&t.job)
	return t.v, err
}

// run hands j to a worker and waits for it; the caller holds a slot,
// which the worker releases. A panic or Goexit in j's function goes on in
// the caller's goroutine.
func (p *pool) run(j *job) error {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		p.b.release()
		p.b.rejected.Add(1)
		return p.b.errClosed
	}
	p.jobs <- j
	p.mu.RUnlock()
	<-j.done
	switch {
	case j.panicked:
		panic(j.value)
	case j.goexit:
		runtime.Goexit()
	}
	return j.err
}

// work runs jobs until jobs is closed and drained.
func (p *pool) work() {
	defer p.exit()
	for j := range p.jobs {
		p.do(j)
	}
}

func (p *pool) exit() {
	if p.live.Add(-1) == 0 {
		close(p.done)
	}
}

// do runs one job. It releases the slot before telling the caller, so a
// caller that calls again at once finds the slot free. A Goexit in fn ends
// this worker; another takes its place.
func (p *pool) do(j *job) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				j.panicked, j.value = true, r
			} else {
				j.goexit = true
				p.live.Add(1)
				go p.work()
			}
		}
		p.b.Release()
		close(j.done)
	}()
	j.err = j.fn.run(j.ctx)
	returned = true
}

// close stops the workers once they have run the jobs given to them, and
// waits for them to exit or for ctx to end.
func (p *pool) close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-engine.Quiet(ctx).Done():
		return ctx.Err()
	}
}
