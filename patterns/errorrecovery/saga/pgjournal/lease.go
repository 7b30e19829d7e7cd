package pgjournal

import (
	"context"
	"maps"
	"slices"
)

// hold records that a run or recovery here holds the leases of sagas ids,
// and arms the renewal if none was due.
func (j *Journal) hold(ids ...string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		j.held[id] = struct{}{}
	}
	if j.timer == nil && !j.closed && len(j.held) > 0 {
		j.timer = j.cfg.Clock.AfterFunc(j.cfg.RenewEvery, j.renew)
	}
}

// unhold forgets saga id; the renewal stops with the last one.
func (j *Journal) unhold(id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.held, id)
}

// heldIDs returns the sagas held here, for Incomplete to leave out; never
// nil, which pgx would send as NULL.
func (j *Journal) heldIDs() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string{}, slices.Collect(maps.Keys(j.held))...)
}

// Held returns the ids of the sagas whose leases this journal holds for
// runs and recoveries in progress, in no particular order. A lease lost
// stays listed until its run or recovery releases it.
func (j *Journal) Held() []string { return j.heldIDs() }

// renew is the renewal timer's callback: it extends every unexpired lease
// held here by Config.LeaseDuration from now, in one UPDATE, then arms the
// next renewal while anything is held. Each renewal schedules the next,
// so renewals never overlap; Close stops the chain and waits for a renewal
// in progress. A lease found expired or taken is not renewed: the next
// write of its saga is refused.
func (j *Journal) renew() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.renewing.Add(1)
	ids := slices.Collect(maps.Keys(j.held))
	j.mu.Unlock()
	defer j.renewing.Done()

	if len(ids) > 0 {
		now := j.cfg.Clock.Now()
		// An error (the database unreachable, Close) leaves the leases to
		// expire; the next renewal tries again. Past LeaseDuration (on the
		// real clock) a renewal has no lease left to save.
		ctx, cancel := context.WithTimeout(j.ctx, j.cfg.LeaseDuration)
		defer cancel()
		j.pool.Exec(ctx, `UPDATE saga_journal_sagas SET lease_expires = $3
			WHERE saga_id = ANY($1) AND owner = $2 AND lease_expires > $4 AND completed = 0`,
			ids, j.owner, now.Add(j.cfg.LeaseDuration), now)
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	j.timer = nil
	if !j.closed && len(j.held) > 0 {
		j.timer = j.cfg.Clock.AfterFunc(j.cfg.RenewEvery, j.renew)
	}
}
