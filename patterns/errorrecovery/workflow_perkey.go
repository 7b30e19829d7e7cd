package errorrecovery

import (
	"context"
	"sync/atomic"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// Per-key machines in a workflow (PerKeyConfig): each key of a call gets
// its own breaker, bulkhead, rate limiter and adaptive limiter, kept in a
// perkey.Registry. A key's machines are an executor of their own, a copy
// of the workflow's with its machines swapped, so that the per-call
// machine's code is the same whether a workflow is keyed or not: the
// workflow only picks, per call, whose executor runs it. The copies share
// the workflow's definition and runner (building a definition per key
// cost 240 µs and 34 KB): the states that use a machine read it from the
// execution's executor (execution.x).

// PerKeyConfig gives each key of a call (a host, a tenant, a shard) its
// own circuit breaker, bulkhead, rate limiter and adaptive limiter: those
// of the workflow's layers that it makes from their sub-configs (Breaker,
// Bulkhead, RateLimit, AdaptiveLimit), each key's made from the same
// sub-config on the key's first call. A machine given as Shared* stays
// one, shared by every key: share a bulkhead to bound the whole service's
// concurrency while each host gets its own breaker. The retry budget, the
// cache and the health window stay the workflow's, since they describe
// all of its calls.
//
// The keys' machines are kept in a perkey.Registry, bounded by
// Registry.MaxKeys (least recently used first out) and evicted after
// Registry.IdleTimeout unused, on the workflow's clock. An execution
// holds a lease on its key's machines, so an eviction never cuts it
// short: it finishes on the machines it started with, which are closed
// after it, and the key's next call gets new ones.
type PerKeyConfig struct {
	// Key returns the key of a call from the context the workflow was
	// called with. It must be quick, and safe for concurrent use. Nil
	// means the key WithKey put in the context, "" when none (so calls
	// without a key share one set of machines); an httptransport.Transport
	// puts the request's host there.
	Key func(ctx context.Context) string
	// KeyName says what a key is ("host", "tenant"), as the workflow's
	// diagram notes it: "circuit breaker, one per host". Empty means
	// "key".
	KeyName string
	// Registry bounds the keys: MaxKeys, IdleTimeout, SweepInterval. A
	// zero field means perkey.Config's default: at most 1024 keys, a key
	// evicted after 5 minutes unused.
	Registry perkey.Config
}

// keyCtx is the context key of WithKey.
type keyCtx struct{}

// WithKey returns a context carrying key as the key of the calls made with
// it, which a workflow with per-key machines (PerKeyConfig) whose Key is
// nil reads. It allocates, as context.WithValue does: in a hot loop over
// few keys, a Key function reading what the context already holds costs
// nothing.
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

// contextKey is PerKeyConfig's Key when nil: the key WithKey put in ctx.
func contextKey(ctx context.Context) string {
	k, _ := ctx.Value(keyCtx{}).(string)
	return k
}

// keyed holds a workflow's per-key machines.
type keyed[T any] struct {
	key  func(context.Context) string
	name string // what a key is, for the diagram
	reg  *perkey.Registry[string, *keyMachines[T]]
	// The configs of the machines made per key; nil for those shared or
	// not taking part.
	breaker  *breaker.Config
	bulkhead *bulkhead.Config
	rate     *ratelimit.Config
	adaptive *adaptive.Config

	template *executor[T] // the workflow's executor, whose copies the keys get
	set      engine.Settings
	window   int // the health window's size, per key too
}

// keyMachines are one key's machines: an executor running the workflow's
// per-call machine on them, and the key's health window.
type keyMachines[T any] struct {
	x      *executor[T]
	k      *keyed[T]
	health healthRing
}

// newKeyed checks cfg.PerKey and prepares the registry of x's workflow,
// whose shared machines have been made: those made from a sub-config are
// made again per key, from it.
func newKeyed[T any](cfg *ErrorRecoveryConfig[T], x *executor[T], set engine.Settings) (*keyed[T], error) {
	pk := cfg.PerKey
	k := &keyed[T]{key: pk.Key, name: pk.KeyName, template: x, set: set, window: cfg.HealthWindow}
	if k.key == nil {
		k.key = contextKey
	}
	if k.name == "" {
		k.name = "key"
	}
	if k.window == 0 {
		k.window = 100
	}
	if x.breaker != nil && cfg.SharedBreaker == nil {
		bc := breaker.DefaultConfig()
		if cfg.Breaker != nil {
			bc = *cfg.Breaker
		}
		k.breaker = &bc
	}
	if x.bulkhead != nil && cfg.SharedBulkhead == nil {
		bc := x.bulkhead.Config()
		k.bulkhead = &bc
	}
	if x.rate != nil && cfg.SharedRateLimiter == nil {
		rc := x.rate.Config()
		k.rate = &rc
	}
	if x.adaptive != nil && cfg.SharedAdaptiveLimiter == nil {
		ac := x.adaptive.Config()
		k.adaptive = &ac
	}
	if k.breaker == nil && k.bulkhead == nil && k.rate == nil && k.adaptive == nil {
		return nil, configErr("ErrorRecoveryConfig", "PerKey", "set",
			"no machine to keep per key: give a Breaker, Bulkhead, RateLimit or AdaptiveLimit sub-config (Shared* ones stay shared)")
	}
	reg, err := perkey.New(pk.Registry, k.create, engine.WithClock(x.clock))
	if err != nil {
		return nil, err
	}
	k.reg = reg
	return k, nil
}

// create makes key's machines, from the workflow's executor. It runs
// under the registry's lock.
func (k *keyed[T]) create(string) (*keyMachines[T], error) {
	x := new(executor[T])
	*x = *k.template // the same layers, configs and stats
	opts := []engine.Option{engine.WithClock(x.clock), engine.WithObserver(k.set.Observer)}
	var err error
	if k.breaker != nil {
		if x.breaker, err = breaker.New(*k.breaker, opts...); err != nil {
			return nil, err
		}
	}
	if k.bulkhead != nil {
		if x.bulkhead, err = bulkhead.New(*k.bulkhead, opts...); err != nil {
			return nil, err
		}
	}
	if k.rate != nil {
		if x.rate, err = ratelimit.New(*k.rate, opts...); err != nil {
			return nil, err
		}
	}
	if k.adaptive != nil {
		if x.adaptive, err = adaptive.New(*k.adaptive, opts...); err != nil {
			return nil, err
		}
	}
	// The definition and runner stay the workflow's: its states read the
	// machines from the execution's executor (execution.x), this one.
	return &keyMachines[T]{x: x, k: k, health: newHealthRing(k.window)}, nil
}

// Close closes the key's own machines once the registry has evicted them
// and their last execution has ended: the breaker's open timer stops, the
// bulkhead refuses calls (a walk-away attempt still holding a slot gives
// it back all the same), the rate limiter's instance closes.
func (m *keyMachines[T]) Close() {
	if m.k.breaker != nil {
		m.x.breaker.Close()
	}
	if m.k.bulkhead != nil {
		_ = m.x.bulkhead.Close(context.Background()) // no pool: nothing to wait for
	}
	if m.k.rate != nil {
		m.x.rate.Close()
	}
}

// executeInto is the executor's executeInto for ctx's key, on a lease of
// the key's machines, and records the outcome in the key's health.
func (k *keyed[T]) executeInto(ctx context.Context, fn func(context.Context) (T, error), out *Result[T]) (T, error) {
	if err := ctx.Err(); err != nil {
		// Nothing run or counted, and no key made for it.
		return k.template.executeInto(ctx, fn, k.template.runner, out)
	}
	l, err := k.reg.Acquire(k.key(ctx))
	if err != nil {
		var zero T
		if out != nil {
			*out = Result[T]{}
		}
		return zero, err
	}
	defer l.Release()
	m := l.Machine()
	var o Result[T]
	if out == nil {
		out = &o
	}
	res, err := m.x.executeInto(ctx, fn, m.x.runner, out)
	m.health.record(err != nil || answersFailure(out.Source))
	return res, err
}

// trace is the executor's trace for ctx's key.
func (k *keyed[T]) trace(ctx context.Context, fn func(context.Context) (T, error), out *Result[T]) (T, []engine.Record, error) {
	if err := ctx.Err(); err != nil {
		return k.template.trace(ctx, fn, out)
	}
	l, err := k.reg.Acquire(k.key(ctx))
	if err != nil {
		var zero T
		if out != nil {
			*out = Result[T]{}
		}
		return zero, nil, err
	}
	defer l.Release()
	m := l.Machine()
	var o Result[T]
	if out == nil {
		out = &o
	}
	res, recs, err := m.x.trace(ctx, fn, out)
	m.health.record(err != nil || answersFailure(out.Source))
	return res, recs, err
}

// health judges one key's machines as Health judges the workflow: on the
// key's executions since its machines were made, and its own breaker.
func (m *keyMachines[T]) healthStatus() HealthStatus {
	h := m.health.status()
	if m.x.breaker != nil {
		h.Breaker, h.HasBreaker = m.x.breaker.State(), true
	}
	h.judge()
	return h
}

// HealthByKey reports, for a workflow with per-key machines (PerKeyConfig),
// the health of each key it holds machines for, judged as Health judges
// the workflow but on the key's own executions (since its machines were
// made, the last HealthWindow of them) and its own breaker (or the shared
// one). Health itself judges every key's executions together, without a
// breaker when the breakers are per key: one bad host of many is
// unhealthy here and does not make the workflow so. A workflow without
// per-key machines returns nil. The map is a new copy, made under the
// registry's lock, so a health endpoint may call it at will, at a cost
// linear in the number of keys.
func (w *Workflow[T]) HealthByKey() map[string]HealthStatus {
	if w.keys == nil {
		return nil
	}
	out := make(map[string]HealthStatus, w.keys.reg.Len())
	w.keys.reg.Range(func(key string, m *keyMachines[T]) bool {
		out[key] = m.healthStatus()
		return true
	})
	return out
}

// PerKey reports whether the workflow keeps machines per key
// (ErrorRecoveryConfig.PerKey).
func (w *Workflow[T]) PerKey() bool { return w.keys != nil }

// retitle notes on the clusters of the machines kept per key what they are
// kept per and the registry's bounds, as perkey.Cluster does.
func (k *keyed[T]) retitle(cs []fsm.Cluster) []fsm.Cluster {
	x := k.template
	var names []string
	if k.breaker != nil {
		names = append(names, x.breaker.Definition().Graph().Name)
	}
	if k.bulkhead != nil {
		names = append(names, x.bulkhead.Definition().Graph().Name)
	}
	if k.rate != nil {
		names = append(names, x.rate.Definition().Graph().Name)
	}
	if k.adaptive != nil {
		names = append(names, x.adaptive.Definition().Graph().Name)
	}
	for i, c := range cs {
		for _, n := range names {
			if c.Graph.Name == n {
				cs[i].Graph = perkey.Cluster(c.Graph, k.name, k.reg.Config()).Graph
			}
		}
	}
	return cs
}

// healthRing is one key's health window: the last len(window) outcomes,
// 1 for a failure, recorded as workflowStats records the workflow's.
type healthRing struct {
	window   []atomic.Int32
	next     atomic.Int64
	failures atomic.Int64
}

func newHealthRing(n int) healthRing { return healthRing{window: make([]atomic.Int32, n)} }

func (r *healthRing) record(failure bool) {
	failed := int32(0)
	if failure {
		failed = 1
	}
	slot := &r.window[(r.next.Add(1)-1)%int64(len(r.window))]
	if slot.Load() != failed {
		if old := slot.Swap(failed); old != failed {
			r.failures.Add(int64(failed - old))
		}
	}
}

// status returns the window's samples, failures and error rate.
func (r *healthRing) status() HealthStatus {
	var h HealthStatus
	h.Samples = int(min(r.next.Load(), int64(len(r.window))))
	h.Failures = int(r.failures.Load())
	if h.Samples > 0 {
		h.ErrorRate = float64(h.Failures) / float64(h.Samples)
	}
	return h
}
