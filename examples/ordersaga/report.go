package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// explain prints what a saga run returned, taking the error apart with
// errors.As as a caller would. It returns errors that are not a saga's
// failure.
func explain(w io.Writer, err error) error {
	if err == nil {
		fmt.Fprintln(w, "  Run returned nil: the order went through")
		return nil
	}
	var se *saga.Error
	if !errors.As(err, &se) {
		return err
	}
	owed := "nothing is owed"
	if len(se.Owed) > 0 {
		owed = "still owed: " + strings.Join(se.Owed, ", ")
	}
	fmt.Fprintf(w, "  Run returned a *saga.Error: the saga ended %v and %s\n", se.State, owed)
	var step *saga.StepError
	if errors.As(se.Cause, &step) {
		fmt.Fprintf(w, "    its Cause, a *saga.StepError: step %q (%v, key %s) failed: %v\n", step.Step, step.Phase, short(step.Key), step.Err)
	}
	fmt.Fprintf(w, "    errors.Is(err, saga.ErrFailed) = %v, errors.Is(err, saga.ErrCompensationFailed) = %v\n",
		errors.Is(err, saga.ErrFailed), errors.Is(err, saga.ErrCompensationFailed))
	return nil
}

// describe prints an unfinished saga's journal and what Recover will make
// of it.
func describe(w io.Writer, log saga.Log) {
	fmt.Fprintf(w, "  it finds saga %q, run %s, unfinished, with %d records:\n", log.Saga, log.ID, len(log.Records))
	status := map[string]saga.RecordKind{} // each step's last forward record
	var names []string
	for _, rec := range log.Records {
		var detail string
		switch rec.Kind {
		case saga.RecordBegun:
			names = rec.Steps
			detail = strings.Join(rec.Steps, ", ")
		case saga.RecordStepStarted, saga.RecordCompensationStarted:
			detail = fmt.Sprintf("%s [key %s]", rec.Step, short(rec.Key))
		case saga.RecordStepDone:
			detail = fmt.Sprintf("%s → %s", rec.Step, rec.Output)
		default:
			detail = rec.Step
		}
		fmt.Fprintf(w, "    %2d  %-20s  %s\n", rec.Seq, rec.Kind, detail)
		if rec.Kind == saga.RecordStepStarted || rec.Kind == saga.RecordStepDone || rec.Kind == saga.RecordStepFailed {
			status[rec.Step] = rec.Kind
		}
	}
	var done, unknown, none []string
	for _, name := range names {
		switch status[name] {
		case saga.RecordStepDone:
			done = append(done, name)
		case saga.RecordStepStarted:
			unknown = append(unknown, name)
		default: // failed, or never started
			none = append(none, name)
		}
	}
	fmt.Fprintf(w, "  took effect: %s; outcome unknown: %s; no effect: %s\n", list(done), list(unknown), list(none))
	// Recover never runs a step forward again. It completes a saga whose
	// every step is recorded done, and rolls back any other.
	if len(done) == len(names) {
		fmt.Fprintln(w, "  every step is done: Recover just marks the saga complete")
		return
	}
	fmt.Fprintln(w, "  Recover never runs a step again: it rolls the saga back, last step first")
}

// list joins names, or says "none".
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// printCharges prints what the payment provider did for each charge.
func printCharges(w io.Writer, charges []Charge) {
	fmt.Fprintln(w, "  the payment provider's books:")
	for _, ch := range charges {
		requests := "1 request"
		if ch.Calls > 1 {
			requests = fmt.Sprintf("%d requests with one key", ch.Calls)
		}
		refunded := "not refunded"
		if ch.Refunds == 1 { // the provider refunds a charge at most once
			refunded = "refunded once"
		}
		fmt.Fprintf(w, "    %s for %s: %s, charged once (%s), %s\n", ch.ID, ch.Order, money(ch.Cents), requests, refunded)
	}
}

// money formats cents as euros.
func money(cents int) string { return fmt.Sprintf("%d.%02d EUR", cents/100, cents%100) }
