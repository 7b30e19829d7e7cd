package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// crashPoint names the journal write at which the first process dies,
// before it reaches the file: a record of saga run id, of kind kind about
// step step, or, when kind is zero, the saga's completion.
type crashPoint struct {
	id   string
	kind saga.RecordKind
	step string
}

// String describes the point.
func (c crashPoint) String() string {
	if c.kind == 0 {
		return "before the journal marks " + c.id + " complete"
	}
	return strings.TrimSpace(fmt.Sprintf("before the journal records %v %s", c.kind, c.step))
}

// crash is the value a simulated crash panics with.
type crash struct{ at crashPoint }

// crashingJournal is the first process's journal: at its crash point it
// panics instead of writing. The saga lets the panic go on, as it would
// a crash (nothing else is written), and runUntilCrash stops it there.
type crashingJournal struct {
	saga.Journal
	at crashPoint
}

// Append writes rec, unless the process dies first.
func (j crashingJournal) Append(ctx context.Context, rec saga.Record) error {
	if rec.SagaID == j.at.id && rec.Kind == j.at.kind && rec.Step == j.at.step {
		panic(crash{j.at})
	}
	return j.Journal.Append(ctx, rec)
}

// Complete marks saga id complete, unless the process dies first.
func (j crashingJournal) Complete(ctx context.Context, id string) error {
	if id == j.at.id && j.at.kind == 0 {
		panic(crash{j.at})
	}
	return j.Journal.Complete(ctx, id)
}
