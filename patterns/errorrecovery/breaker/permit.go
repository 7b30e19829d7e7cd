package breaker

import (
	"context"
	"time"
)

// The permit API: admission (Allow) and outcomes (Permit.Done), the lock-
// free path in Closed and Open, and trials in HalfOpen. Protect and
// errorrecovery's per-call machine use the same core.

// Permit is the admission of one call. Report its outcome with Done (or,
// for a call that never ended normally, Abandon), exactly once; a Permit
// is a small value and Done allocates nothing. The zero Permit (returned
// with a rejection) ignores both.
type Permit struct {
	b     *Breaker
	start time.Duration // since b.origin; set when the slow-call rule is on
	gen   uint32        // the generation the call was admitted in
	state State         // the state it was admitted in: Closed or HalfOpen
}

// Allow asks to make a call. In Closed it admits it; in Open it rejects
// it with the open episode's *OpenError (allocated once per episode); in
// HalfOpen it admits it as a trial while fewer than HalfOpenMaxCalls
// trials are in flight, and otherwise rejects it with an *OpenError whose
// HalfOpen reports true. The Permit must be finished with Done (or
// Abandon).
//
// In Closed and Open, Allow is one atomic load of the state word and takes
// no lock (plus a clock read with the slow-call rule on); a rejection also
// adds one to an atomic counter.
func (b *Breaker) Allow() (Permit, error) {
	s, g := b.inst.StateGeneration()
	switch s {
	case StateClosed:
		if !b.timing {
			return Permit{b: b, gen: g}, nil
		}
	case StateOpen:
		if e := b.openErr.Load(); e.gen == g {
			b.rejections.Add(1)
			return Permit{}, e
		}
	}
	return b.allowSlow(s, g)
}

// OpenFor reports whether the breaker is open and, if so, how long it
// stays open: the time left, on the breaker's clock, until its open
// timeout passes and it goes half-open (zero once that time has come, as
// OpenError.RetryAfter). It reports false in Closed and HalfOpen, and
// while a step that opens the breaker is still under way. Like State, it
// takes no lock and changes nothing. A caller about to wait before
// calling again (a retry's backoff) can ask it whether the breaker will
// still reject that call.
func (b *Breaker) OpenFor() (left time.Duration, open bool) {
	s, g := b.inst.StateGeneration()
	if s != StateOpen {
		return 0, false
	}
	e := b.openErr.Load()
	if e.gen != g {
		return 0, false
	}
	return e.RetryAfter(), true
}

func (b *Breaker) allowSlow(s State, g uint32) (Permit, error) {
	switch s {
	case StateClosed: // with the slow-call rule
		return Permit{b: b, gen: g, start: b.since()}, nil
	case StateOpen:
		// The word is published before the Open entry action stores the
		// episode's error: wait for that step to finish.
		b.waitForStep()
		b.rejections.Add(1)
		return Permit{}, b.openErr.Load()
	}
	return b.allowTrial()
}

// allowTrial admits a trial call while HalfOpenMaxCalls are not in flight.
// The trial count belongs to a generation: the first admission of a new
// half-open period starts it from zero, and permits of an older period do
// not decrement it. The state word is read again under trialMu, whose
// holder only ever moves trialGen forward.
func (b *Breaker) allowTrial() (Permit, error) {
	b.trialMu.Lock()
	s, g := b.inst.StateGeneration()
	admitted := false
	if s == StateHalfOpen {
		if g != b.trialGen {
			b.trialGen, b.trials = g, 0
		}
		if b.trials < b.cfg.halfOpenMax {
			b.trials++
			admitted = true
		}
	}
	b.trialMu.Unlock()
	switch {
	case admitted:
		p := Permit{b: b, gen: g, state: StateHalfOpen}
		if b.timing {
			p.start = b.since()
		}
		return p, nil
	case s == StateClosed: // closed meanwhile
		p := Permit{b: b, gen: g}
		if b.timing {
			p.start = b.since()
		}
		return p, nil
	case s == StateHalfOpen:
		b.rejections.Add(1)
		return Permit{}, b.trialErr
	}
	b.rejections.Add(1)
	return Permit{}, b.openErr.Load()
}

func (b *Breaker) releaseTrial(gen uint32) {
	b.trialMu.Lock()
	if b.trialGen == gen && b.trials > 0 {
		b.trials--
	}
	b.trialMu.Unlock()
}

// Done reports the call's outcome: nil is a success; another error is
// classified by Config.Classify. An outcome from a call
// admitted before the breaker last changed state is ignored. A half-open
// trial's slot is released whatever the outcome.
func (p Permit) Done(err error) {
	if b := p.b; err == nil && b != nil && p.state == StateClosed && b.fast && b.inst.Generation() == p.gen {
		if at := b.pos.Add(1); b.rated {
			b.judgeAt(at)
		}
		return
	}
	p.done(err, false)
}

// Abandon reports a call that ended without an outcome of its own, such
// as one whose function panicked or one stranded when its caller gave up
// on it: it is recorded as a failure whatever Config.Classify says, and a
// half-open trial's slot is released. Like Done, an abandoned call
// admitted before the breaker last changed state is ignored.
func (p Permit) Abandon() { p.done(nil, true) }

// Drop gives the permit back without an outcome, for a call that was
// admitted but never made: one that a layer after the breaker (a rate
// limiter, an adaptive limiter) refused, say. Nothing is recorded,
// neither a success nor a failure, so the window and the rules are as if
// the call had never been asked for; a half-open trial's slot is released
// for another call. Finish a permit once, with Done, Abandon or Drop.
// Drop takes no lock in Closed and allocates nothing.
func (p Permit) Drop() {
	if b := p.b; b != nil && p.state == StateHalfOpen {
		b.releaseTrial(p.gen)
	}
}

// done is the general path of Done and Abandon; a panicked call counts as
// a failure whatever Classify says.
func (p Permit) done(err error, panicked bool) {
	b := p.b
	if b == nil {
		return
	}
	o := OutcomeSuccess
	switch {
	case panicked:
		o = OutcomeFailure
	case err != nil:
		if o = b.cfg.classify(err); o != OutcomeSuccess && o != OutcomeIgnore {
			o = OutcomeFailure
		}
	}
	switch p.state {
	case StateClosed:
		b.doneClosed(p, o)
	case StateHalfOpen:
		b.doneTrial(p, o)
	}
}

func (b *Breaker) doneClosed(p Permit, o Outcome) {
	if o == OutcomeIgnore {
		return
	}
	// A time window reads the clock itself, when its bucket tick says
	// it must (timeWindow.bucketLocked): given a zero time.
	var now time.Time
	if b.timing {
		now = b.clock.Now()
	}
	failure := o == OutcomeFailure
	slow := b.timing && now.Sub(b.origin)-p.start > b.cfg.slowCall
	tripped, ok := b.record(p.gen, now, failure, slow)
	if !ok {
		return
	}
	if !failure && !slow && b.skipSuccess && !tripped {
		return // it cannot have changed what the rules say
	}
	ev := EventSuccess
	if failure {
		ev = EventFailure
	}
	_, _ = b.inst.FireIfGeneration(context.Background(), p.gen, ev)
}

func (b *Breaker) doneTrial(p Permit, o Outcome) {
	b.releaseTrial(p.gen)
	if o == OutcomeIgnore {
		return
	}
	failure := o == OutcomeFailure || (b.timing && b.since()-p.start > b.cfg.slowCall)
	ev := EventSuccess
	if failure {
		ev = EventFailure
	}
	_, _ = b.inst.FireIfGeneration(context.Background(), p.gen, ev)
}

// record writes an outcome into the window of generation gen and reports
// whether it did (ok): not when the breaker has left that closed period.
//
// For a success that is not slow, which the caller fires only when it
// may have changed what a rate rule says, record also does that part:
// in a window with a duration it reports (tripped) whether a rate rule
// holds in the window just after it, as outcomes that aged out may have
// raised a rate; in a count-only window it judges the success itself
// (judgeAt), when the definition leaves that to the breaker.
func (b *Breaker) record(gen uint32, now time.Time, failure, slow bool) (tripped, ok bool) {
	if b.inst.Generation() != gen {
		return false, false
	}
	if b.timed {
		w := b.timedWin.Load()
		if w.gen != gen {
			b.waitForStep()
			if w = b.timedWin.Load(); w.gen != gen {
				return false, false
			}
		}
		judge := b.rated && !failure && !slow
		c := w.add(now, failure, slow, judge)
		return judge && (b.cfg.failureRateOver(c) || b.cfg.slowRateOver(c)), true
	}
	if !failure && !slow {
		if at := b.pos.Add(1); b.rated && b.skipSuccess {
			b.judgeAt(at)
		}
		return false, true
	}
	w := b.count.Load()
	if w.gen != gen {
		b.waitForStep()
		if w = b.count.Load(); w.gen != gen {
			return false, false
		}
	}
	w.add(b.pos.Add(1)-1, failure, slow)
	return false, true
}

// judgeAt fires the success that brought the breaker's position counter to
// at when, in a count-only window with a rate rule on, it is the one that
// brought the current window to MinimumCalls: the only success that can
// change what a rate rule says there. Before it the rules do not apply;
// from then on a success that is not slow takes a call's place in the
// window, or adds one, without adding a failure or a slow call, so it can
// only lower the rates. Any other success returns at once, with no lock.
//
// The success is fired in the window's generation rather than its
// permit's: in the instant between a permit's generation check and its
// position, the breaker may have closed again, and the position then
// counts in the new window, whose rules must be judged all the same.
func (b *Breaker) judgeAt(at uint64) {
	if w := b.count.Load(); w != nil && at == w.start+uint64(b.cfg.minimumCalls) {
		_, _ = b.inst.FireIfGeneration(context.Background(), w.gen, EventSuccess)
	}
}
