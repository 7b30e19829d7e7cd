package cli

import (
	"fmt"
	"io"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
)

// The parts of a simulate report about the new layers (rate limiter,
// retry budget, adaptive limiter) and the richer dependency (a slow tail,
// slowdowns, hosts). Each is written only when the run has what it
// describes, so the reports of runs without them are as they were.

// writeDependencyExtras continues the dependency line with the tail,
// slowdowns and hosts.
func writeDependencyExtras(w io.Writer, dep sim.Dependency) {
	if dep.Tail.Share > 0 {
		fmt.Fprintf(w, "; %s of calls take %s", pct(dep.Tail.Share), fmtDur(dep.Tail.Latency))
	}
	for _, s := range dep.Slowdowns {
		fmt.Fprintf(w, "; %gx slower %s-%s", s.Factor, fmtDur(s.Start), fmtDur(s.End))
	}
	if dep.Capacity > 0 {
		fmt.Fprintf(w, "; serves %d calls at once, slower beyond", dep.Capacity)
	}
	if dep.Hosts > 1 {
		fmt.Fprintf(w, "; %d hosts", dep.Hosts)
		for _, o := range dep.HostOutages {
			fmt.Fprintf(w, ", h1 down %s-%s", fmtDur(o.Start), fmtDur(o.End))
		}
	}
}

// showLoad reports whether the report shows the dependency's load over
// time (the busiest second, calls per row of the timeline): when there is
// a burst, a rate limiter or a retry budget, whose point is that load.
func showLoad(opts sim.Options, r *sim.Result) bool {
	return len(opts.Bursts) > 0 || r.RateLimit != nil || r.Budget != nil
}

// writeLimits writes what the rate limiter, the retry budget and the
// adaptive limiter did.
func writeLimits(w io.Writer, r *sim.Result) {
	if l := r.RateLimit; l != nil {
		fmt.Fprintf(w, "rate limiter     %d permits at once, %d after a wait, %d attempts rejected\n\n", l.Permitted, l.Waited, l.Rejected)
	}
	if b := r.Budget; b != nil {
		fmt.Fprintf(w, "retry budget     %d retries allowed, %d refused\n\n", b.Withdrawn, b.Refused)
	}
	if a := r.Adaptive; a != nil {
		fmt.Fprintf(w, "adaptive limit   started at %d, lowest %d, highest %d, %d at the end; moved %s; %d attempts rejected\n\n",
			a.Initial, a.Low, a.High, a.Final, plural(len(a.Changes), "time"), a.Rejected)
	}
}

// writeHosts writes a row per host of the dependency.
func writeHosts(w io.Writer, r *sim.Result) {
	if len(r.Hosts) == 0 {
		return
	}
	keyed := r.Hosts[0].Breaker != "" // a breaker per host
	t := table{left: map[int]bool{8: true}}
	head := []string{"host", "executions", "succeeded", "fallback", "failed", "calls", "calls failed"}
	if keyed {
		head = append(head, "its breaker opened", "at end")
	}
	t.row(head...)
	for _, h := range r.Hosts {
		cells := []string{"  " + h.Host, fmt.Sprint(h.Executions), fmt.Sprint(h.Succeeded), fmt.Sprint(h.Fallbacks), fmt.Sprint(h.Failed),
			fmt.Sprint(h.Calls), fmt.Sprint(h.CallsFailed)}
		if keyed {
			cells = append(cells, plural(h.BreakerOpens, "time"), h.Breaker)
		}
		t.row(cells...)
	}
	t.write(w)
	fmt.Fprintln(w)
}
