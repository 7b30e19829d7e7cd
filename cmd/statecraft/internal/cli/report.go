package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
)

// writeReport writes the summary of a simulation. Everything in it comes
// from the run on the virtual clock, so the same seed gives the same
// report, byte for byte.
func writeReport(w io.Writer, name string, strategies []string, opts sim.Options, r *sim.Result) {
	n := r.Executions
	fmt.Fprintf(w, "simulated   %d executions arriving over %s of virtual time (%s arrivals, seed %d)",
		n, fmtDur(opts.Duration), opts.Arrivals, opts.Seed)
	for _, b := range opts.Bursts {
		fmt.Fprintf(w, "; a burst of %d in %s-%s", b.Executions, fmtDur(b.Start), fmtDur(b.End))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "workflow    %s: %s\n", name, strings.Join(strategies, ", "))
	dep := opts.Dependency
	fmt.Fprintf(w, "dependency  latency %s; %s of calls fail with a 503", dep.Latency, pct(dep.FailureRate))
	for _, o := range dep.Outages {
		fmt.Fprintf(w, "; outage %s-%s", fmtDur(o.Start), fmtDur(o.End))
	}
	writeDependencyExtras(w, dep)
	fmt.Fprint(w, "\n\n")

	var t table
	t.row("outcome", "executions", "share")
	row := func(label string, count int) {
		t.row("  "+label, fmt.Sprint(count), share(count, n))
	}
	sub := func(label string, count int) {
		if count > 0 {
			t.row("    "+label, fmt.Sprint(count), "")
		}
	}
	row("succeeded", r.Succeeded+r.FromCache)
	sub("from the cache", r.FromCache)
	row("fallback", r.Fallbacks+r.Stale)
	sub("a stale cache entry", r.Stale)
	row("failed", r.Failed)
	sub("retries exhausted", r.Failures.Exhausted)
	sub("overall deadline passed", r.Failures.TimedOut)
	sub("rejected by the circuit breaker", r.Failures.BreakerRejected)
	sub("rejected by the bulkhead", r.Failures.BulkheadRejected)
	sub("rejected by the rate limiter", r.Failures.RateLimited)
	sub("rejected by the adaptive limit", r.Failures.LimitRejected)
	sub("retry refused by the budget", r.Failures.BudgetRefused)
	sub("not retried (a permanent error)", r.Failures.Other)
	t.row("")
	t.row("calls per execution", "executions", "share")
	for k, count := range r.Attempts {
		if count > 0 {
			t.row(fmt.Sprintf("  %d", k), fmt.Sprint(count), share(count, n))
		}
	}
	t.write(w)
	fmt.Fprintf(w, "  mean %.2f; %d calls of the dependency in all\n", float64(r.Calls)/float64(n), r.Calls)
	if showLoad(opts, r) {
		fmt.Fprintf(w, "  at most %d calls in one second (the second from %s)\n", r.PeakCalls, fmtDur(r.PeakSecond))
	}
	fmt.Fprintln(w)

	writeWorkflowView(w, r)

	fmt.Fprintf(w, "virtual latency  p50 %s, p90 %s, p99 %s, max %s\n",
		fmtDur(r.Percentile(0.50)), fmtDur(r.Percentile(0.90)), fmtDur(r.Percentile(0.99)), fmtDur(r.Percentile(1)))
	fmt.Fprintf(w, "virtual time     %s to the last execution's end; at most %d executions in flight\n\n",
		fmtDur(r.Elapsed), r.MaxInFlight)

	if b := r.Breaker; b != nil {
		t = table{}
		t.row("circuit breaker", "time", "share")
		for _, st := range b.Time {
			t.row("  "+st.State, fmtDur(st.Time), shareDur(st.Time, r.Elapsed))
		}
		t.write(w)
		fmt.Fprintf(w, "  opened %s\n\n", plural(b.Opens, "time"))
	}
	if b := r.Bulkhead; b != nil {
		fmt.Fprintf(w, "bulkhead         %d calls queued for a slot, %d rejected at once, %d timed out waiting\n\n",
			b.Queued, b.Rejected, b.TimedOut)
	}
	writeLimits(w, r)
	writeHosts(w, r)

	t = table{}
	t.row("per-call machine", "entries", "per execution")
	for _, v := range r.Visits {
		t.row("  "+v.State, fmt.Sprint(v.Count), fmt.Sprintf("%.2f", float64(v.Count)/float64(n)))
	}
	t.write(w)
	if len(r.Timeline) > 0 {
		t = table{left: map[int]bool{5: true, 6: r.Breaker != nil}}
		head := []string{"arrived from", "executions", "succeeded", "fallback", "failed", "health at end"}
		if r.Breaker != nil {
			head = append(head, "breaker at end")
		}
		load, limit := showLoad(opts, r), r.Adaptive != nil
		if load {
			head = append(head, "calls made")
		}
		if limit {
			head = append(head, "limit at end", "lowest")
		}
		t.row(head...)
		for _, b := range r.Timeline {
			health := "-"
			if b.Executions > 0 {
				health = b.Health.String()
			}
			cells := []string{"  " + fmtDur(b.Start), fmt.Sprint(b.Executions), fmt.Sprint(b.Succeeded), fmt.Sprint(b.Fallbacks), fmt.Sprint(b.Failed), health}
			if r.Breaker != nil {
				breaker := b.Breaker
				if b.BreakerOpens > 0 {
					breaker += fmt.Sprintf(", opened %s", plural(b.BreakerOpens, "time"))
				}
				cells = append(cells, breaker)
			}
			if load {
				cells = append(cells, fmt.Sprint(b.Calls))
			}
			if limit {
				cells = append(cells, fmt.Sprint(b.Limit), fmt.Sprint(b.LimitLow))
			}
			t.row(cells...)
		}
		fmt.Fprintln(w)
		t.write(w)
	}
	if len(r.Notes) > 0 {
		fmt.Fprint(w, "\nnotes\n")
		for _, note := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", note)
		}
	}
}

// writeWorkflowView writes what the workflow itself reports: its
// metrics (what the callers saw, what the dependency did), its health at
// the end and its alerts. Health describes the dependency, so an outage
// that the fallback answers shows as unhealthy.
func writeWorkflowView(w io.Writer, r *sim.Result) {
	m, h := r.Metrics, r.Health
	fmt.Fprintln(w, "the workflow's own report (Metrics, Health, OnAlert)")
	t := table{left: map[int]bool{1: true}}
	if m.Executions == 0 {
		t.row("  metrics", "off (metrics_enabled: false)")
	} else {
		t.row("  callers saw", fmt.Sprintf("%d successes, %d fallbacks, %d stale, %d failed", m.Successes, m.Fallbacks, m.StaleServed, m.Failed))
		t.row("  the dependency", fmt.Sprintf("%d failures, %d calls, %d retries, %d rejections, %d timeouts, %d attempt timeouts",
			m.Failures, m.Calls, m.Retries, m.Rejections, m.Timeouts, m.AttemptTimeouts))
	}
	health := fmt.Sprintf("%s at the end: %d of the last %d executions failed (%s)", h.Status, h.Failures, h.Samples, pct(h.ErrorRate))
	if h.HasBreaker {
		health += fmt.Sprintf(", breaker %s", h.Breaker)
	}
	t.row("  health", health)
	if r.AlertThreshold > 0 {
		alerts := fmt.Sprint(len(r.Alerts))
		const shown = 5
		for i, at := range r.Alerts[:min(len(r.Alerts), shown)] {
			sep := ", "
			if i == 0 {
				sep = ", at "
			}
			alerts += sep + fmtDur(at)
		}
		if len(r.Alerts) > shown {
			alerts += ", …"
		}
		t.row("  alerts", alerts+fmt.Sprintf(" (alert_threshold %d)", r.AlertThreshold))
	}
	t.write(w)
	fmt.Fprintln(w)
}

// table lays out rows in columns two spaces apart: the first column (and
// those in left) aligned left, the others right. A row with one empty
// cell is a blank line.
type table struct {
	rows [][]string
	left map[int]bool
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if i == 0 || t.left[i] {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func share(count, total int) string {
	if total == 0 {
		return "-"
	}
	return pct(float64(count) / float64(total))
}

func shareDur(d, total time.Duration) string {
	if total <= 0 {
		return "-"
	}
	return pct(float64(d) / float64(total))
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// fmtDur rounds d to three or so significant digits, as a person reads a
// latency: 42.3ms, 1.25s, 48m50s.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		d = d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		d = d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	default:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}
