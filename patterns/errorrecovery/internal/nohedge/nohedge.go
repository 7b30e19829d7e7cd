// Package nohedge marks a context whose execution must not be hedged: the
// adapters beside package errorrecovery (httptransport) use it for calls
// that may not run twice at once, without a name in errorrecovery's
// exported surface.
package nohedge

import "context"

type key struct{}

// Off returns ctx marked: an execution of a workflow with HEDGE under it
// starts no hedge.
func Off(ctx context.Context) context.Context { return context.WithValue(ctx, key{}, true) }

// IsOff reports whether ctx was marked by Off.
func IsOff(ctx context.Context) bool {
	off, _ := ctx.Value(key{}).(bool)
	return off
}
