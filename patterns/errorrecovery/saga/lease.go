package saga

import (
	"context"
	"errors"
)

// ErrLeaseLost is the error a LeasedJournal returns (wrapped, matched with
// errors.Is) when it refuses a write because this process no longer holds
// the saga's lease: the lease expired, or another replica claimed the saga.
// A saga run or recovery that meets it stops where it is, before its next
// side effect, as if its process had crashed; the replica that holds the
// lease finishes the saga.
var ErrLeaseLost = errors.New("saga lease lost")

// LeasedJournal is a Journal shared by several processes (replicas), each
// saga of which is leased to one of them at a time, such as
// pgjournal.Journal. Its methods keep the Journal contract with these
// differences:
//
//   - Append and Complete write only while the journal holds the saga's
//     lease, checked in the same transaction as the write, and renew it;
//     otherwise they refuse with an error matching ErrLeaseLost. Beginning
//     a saga (RecordBegun) takes its lease.
//   - Incomplete claims and returns only incomplete sagas whose lease has
//     expired or been released; sagas that runs hold, in this process or
//     another, are left out. A saga claimed is held until Complete or
//     Release.
//   - The journal renews the leases it holds while they are held.
//
// A Saga journals what it is about to do before each side effect, and with
// a LeasedJournal runs no effect whose write before it failed, for
// whatever reason (the lease could not be confirmed), nor anything after a
// write refused with ErrLeaseLost: the run stops there. It releases the
// lease of a run that ends without completing its saga
// (CompensationFailed, a panic, a lost lease, a journal error), and
// Recover that of every saga it claimed but did not complete, so that the
// next Recover, here or on another replica, can claim it without waiting
// for the lease to expire.
type LeasedJournal interface {
	Journal
	// Release gives up the journal's lease on saga id, whose run or
	// recovery has ended without completing it. A saga the journal does not
	// hold is left alone; that is not an error.
	Release(ctx context.Context, id string) error
}

// sagaRelease releases the lease a run or recovery held on saga id, if its
// journal leases sagas.
func sagaRelease(ctx context.Context, j Journal, id string) error {
	if lj, ok := j.(LeasedJournal); ok {
		return lj.Release(ctx, id)
	}
	return nil
}

// leaseLost reports whether a journal error means that the run must stop.
func leaseLost(err error) bool { return errors.Is(err, ErrLeaseLost) }
