package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// Every journal and database the example opens is closed again:
// database/sql keeps a goroutine per open database.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// key returns the short form of the idempotency key the saga gives an
// action, as the example prints it.
func key(order, step string, phase saga.Phase) string {
	return short(saga.IdempotencyKey(order, step, phase))
}

const (
	fwd  = saga.PhaseForward
	comp = saga.PhaseCompensate
)

// runDefault runs the example as main does, on a journal in a test
// folder, and returns its output, its services and the journal's path.
func runDefault(t *testing.T) (string, *Services, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.db")
	svc := NewServices()
	var out bytes.Buffer
	if err := runDemo(&out, path, svc, defaultCrash); err != nil {
		t.Fatalf("run:\n%s", out.String())
	}
	return out.String(), svc, path
}

// fields normalizes a line's spacing, so that alignment does not matter.
func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestRunPrintsEveryActionInTheOrderItHappens pins every action printed,
// in order, with its key: Part 1 compensates refund then release; Part 2
// retries the charge under one key, and Recover asks about the shipment
// and undoes all three steps, last first.
func TestRunPrintsEveryActionInTheOrderItHappens(t *testing.T) {
	out, _, _ := runDefault(t)
	var got []string
	for line := range strings.Lines(out) {
		if f := fields(line); strings.HasPrefix(f, "do ") || strings.HasPrefix(f, "undo ") || strings.HasPrefix(f, "ask ") {
			got = append(got, f)
		}
	}
	want := []string{
		// Part 1: the shipment fails; refund, then release.
		fmt.Sprintf("do reserve inventory [key %s] reserved 2 × gopher plush as res-1", key("order-1", stepReserve, fwd)),
		fmt.Sprintf("do charge payment [key %s] charged 39.98 EUR as ch-1", key("order-1", stepCharge, fwd)),
		fmt.Sprintf(`do create shipment [key %s] shipping: no courier serves "Atlantis"`, key("order-1", stepShip, fwd)),
		fmt.Sprintf("undo charge payment [key %s] refunded ch-1", key("order-1", stepCharge, comp)),
		fmt.Sprintf("undo reserve inventory [key %s] released res-1", key("order-1", stepReserve, comp)),
		// Part 2: the charge's reply is lost and the retry replays it;
		// the process dies before the shipment is journaled.
		fmt.Sprintf("do reserve inventory [key %s] reserved 1 × Go mug as res-2", key("order-2", stepReserve, fwd)),
		fmt.Sprintf("do charge payment [key %s] payments: no reply (timeout): charged or not? the retry asks again with the same key", key("order-2", stepCharge, fwd)),
		fmt.Sprintf("do charge payment [key %s] charged 12.50 EUR as ch-2 (a replay: this key was seen before, so nothing was charged again)", key("order-2", stepCharge, fwd)),
		fmt.Sprintf("do create shipment [key %s] created ship-1", key("order-2", stepShip, fwd)),
		// Recovery: ask about the shipment, then undo all three, last first.
		fmt.Sprintf("ask create shipment [key %s] shipping made ship-1 with this key: the step took effect", key("order-2", stepShip, fwd)),
		fmt.Sprintf("undo create shipment [key %s] cancelled ship-1", key("order-2", stepShip, comp)),
		fmt.Sprintf("undo charge payment [key %s] refunded ch-2", key("order-2", stepCharge, comp)),
		fmt.Sprintf("undo reserve inventory [key %s] released res-2", key("order-2", stepReserve, comp)),
	}
	assert.Equal(t, want, got, "actions printed; output:\n%s", out)
}

// TestRunExplainsTheSagaErrorThePathsAndTheRecovery pins the lines that
// explain the run: the machine's paths, the *saga.Error taken apart, the
// journal the restart finds and what Recover makes of it, and the payment
// provider's books.
func TestRunExplainsTheSagaErrorThePathsAndTheRecovery(t *testing.T) {
	out, _, _ := runDefault(t)
	// In this order, each on a line of its own.
	want := []string{
		"machine: Start → Step1 → Step2 → Step3 → Compensating2 → Compensating1 → Compensated",
		"Run returned a *saga.Error: the saga ended Compensated and nothing is owed",
		fmt.Sprintf(`its Cause, a *saga.StepError: step "create shipment" (forward, key %s) failed: shipping: no courier serves "Atlantis"`, key("order-1", stepShip, fwd)),
		"errors.Is(err, saga.ErrFailed) = true, errors.Is(err, saga.ErrCompensationFailed) = false",
		"*** the process dies before the journal records step-done create shipment ***",
		`it finds saga "order", run order-2, unfinished, with 6 records:`,
		"1 saga-begun reserve inventory, charge payment, create shipment",
		`5 step-done charge payment → "ch-2"`,
		fmt.Sprintf("6 step-started create shipment [key %s]", key("order-2", stepShip, fwd)),
		"took effect: reserve inventory, charge payment; outcome unknown: create shipment; no effect: none",
		"Recover never runs a step again: it rolls the saga back, last step first",
		"recovered order-2: Compensated",
		"machine: Start → Compensating3 → Compensating2 → Compensating1 → Compensated",
		"the journal now holds 0 unfinished sagas; a second Recover finds 0 to do",
		"ch-1 for order-1: 39.98 EUR, charged once (1 request), refunded once",
		"ch-2 for order-2: 12.50 EUR, charged once (2 requests with one key), refunded once",
	}
	var lines []string
	for line := range strings.Lines(out) {
		lines = append(lines, fields(line))
	}
	at := 0
	for _, w := range want {
		i := slices.Index(lines[at:], w)
		if i < 0 {
			t.Fatalf("after line %d, the output lacks the line %q:\n%s", at, w, out)
		}
		at += i + 1
	}
}

// TestServicesReceiveTheCallsInOrderWithTheirKeys checks the calls the
// fake services recorded, with their full keys: the lost reply and its
// replay, the lookup by the shipment's key, the compensations.
func TestServicesReceiveTheCallsInOrderWithTheirKeys(t *testing.T) {
	_, svc, _ := runDefault(t)
	k := func(order, step string, phase saga.Phase) string { return saga.IdempotencyKey(order, step, phase) }
	want := []Call{
		{"inventory", "reserve", k("order-1", stepReserve, fwd), "res-1"},
		{"payments", "charge", k("order-1", stepCharge, fwd), "ch-1"},
		{"shipping", "create", k("order-1", stepShip, fwd), `error: shipping: no courier serves "Atlantis"`},
		{"payments", "refund", k("order-1", stepCharge, comp), "ch-1"},
		{"inventory", "release", k("order-1", stepReserve, comp), "res-1"},

		{"inventory", "reserve", k("order-2", stepReserve, fwd), "res-2"},
		{"payments", "charge", k("order-2", stepCharge, fwd), "ch-2, reply lost"},
		{"payments", "charge", k("order-2", stepCharge, fwd), "replayed ch-2"},
		{"shipping", "create", k("order-2", stepShip, fwd), "ship-1"},
		// the crash, then Recover
		{"shipping", "lookup", k("order-2", stepShip, fwd), "ship-1"},
		{"shipping", "cancel", k("order-2", stepShip, comp), "ship-1"},
		{"payments", "refund", k("order-2", stepCharge, comp), "ch-2"},
		{"inventory", "release", k("order-2", stepReserve, comp), "res-2"},
	}
	if got := svc.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
}

// journalRecords reads the journal file directly: each saga's
// completion flag, and its records as "kind step".
func journalRecords(t *testing.T, path string) (completed map[string]bool, records map[string][]string) {
	t.Helper()
	db, err := sql.Open("sqlite", path) // the driver sqlitejournal registers
	require.NoError(t, err)
	defer db.Close()
	completed, records = map[string]bool{}, map[string][]string{}
	rows, err := db.Query(`SELECT saga_id, completed FROM saga_journal_sagas`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		var done bool
		require.NoError(t, rows.Scan(&id, &done))
		completed[id] = done
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))
	rows, err = db.Query(`SELECT saga_id, body FROM saga_journal_records ORDER BY saga_id, seq`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, body string
		require.NoError(t, rows.Scan(&id, &body))
		var rec saga.Record
		require.NoError(t, json.Unmarshal([]byte(body), &rec))
		records[id] = append(records[id], strings.TrimSpace(rec.Kind.String()+" "+rec.Step))
	}
	require.NoError(t, rows.Err())
	return completed, records
}

// TestJournalEndsWithBothSagasCompleteAndEveryStepRecorded reads the
// SQLite file itself after the demo: both sagas complete, each with the
// records its run and its recovery wrote.
func TestJournalEndsWithBothSagasCompleteAndEveryStepRecorded(t *testing.T) {
	_, _, path := runDefault(t)
	completed, records := journalRecords(t, path)
	assert.Equal(t, map[string]bool{"order-1": true, "order-2": true}, completed, "sagas complete")
	want := map[string][]string{
		"order-1": {
			"saga-begun",
			"step-started reserve inventory", "step-done reserve inventory",
			"step-started charge payment", "step-done charge payment",
			"step-started create shipment", "step-failed create shipment",
			"compensation-started charge payment", "compensation-done charge payment",
			"compensation-started reserve inventory", "compensation-done reserve inventory",
		},
		"order-2": {
			"saga-begun",
			"step-started reserve inventory", "step-done reserve inventory",
			"step-started charge payment", "step-done charge payment",
			"step-started create shipment",
			// written by Recover: the resolve hook's answer, then the roll-back
			"step-done create shipment",
			"compensation-started create shipment", "compensation-done create shipment",
			"compensation-started charge payment", "compensation-done charge payment",
			"compensation-started reserve inventory", "compensation-done reserve inventory",
		},
	}
	for id, w := range want {
		assert.Equal(t, w, records[id], "%s's records", id)
	}
}

// effects counts the effects the services made, by "service op id": the
// calls that acted (not replays, lookups or refusals).
func effects(calls []Call) map[string]int {
	n := map[string]int{}
	for _, c := range calls {
		if c.Op == "lookup" || strings.HasPrefix(c.Result, "replayed") || strings.HasPrefix(c.Result, "error") {
			continue
		}
		id, _, _ := strings.Cut(c.Result, ",")
		n[c.Service+" "+c.Op+" "+id]++
	}
	return n
}

// TestRecoveryAfterACrashAtAnyPointRollsBackOnceOrCompletes crashes the
// first process before each of order-2's journal writes in turn and
// checks, after Recover, that each effect happened at most once and was
// undone exactly once, unless every step had been recorded done and the
// order completed.
func TestRecoveryAfterACrashAtAnyPointRollsBackOnceOrCompletes(t *testing.T) {
	// The first process dies before each journal write of order-2 in
	// turn. Recover completes the order only when every step was recorded
	// done; otherwise it rolls back, and every effect of order-2 is undone
	// exactly once.
	points := []crashPoint{
		{id: "order-2", kind: saga.RecordBegun},
		{id: "order-2", kind: saga.RecordStepStarted, step: stepReserve},
		{id: "order-2", kind: saga.RecordStepDone, step: stepReserve},
		{id: "order-2", kind: saga.RecordStepStarted, step: stepCharge},
		{id: "order-2", kind: saga.RecordStepDone, step: stepCharge},
		{id: "order-2", kind: saga.RecordStepStarted, step: stepShip},
		{id: "order-2", kind: saga.RecordStepDone, step: stepShip},
		{id: "order-2"}, // before the completion
	}
	for i, p := range points {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "orders.db")
			svc := NewServices()
			var out bytes.Buffer
			if err := runDemo(&out, path, svc, p); err != nil {
				t.Fatalf("run:\n%s", out.String())
			}
			// Effects order-2 made before the crash: reserve from point
			// 2 on (its started record was written), charge from 4, ship
			// from 6.
			made := map[string]bool{
				"inventory reserve res-2": i >= 2,
				"payments charge ch-2":    i >= 4,
				"shipping create ship-1":  i >= 6,
			}
			undo := map[string]string{
				"inventory reserve res-2": "inventory release res-2",
				"payments charge ch-2":    "payments refund ch-2",
				"shipping create ship-1":  "shipping cancel ship-1",
			}
			completes := p.kind == 0 // every step recorded done: Recover reaches Done
			got := effects(svc.Calls())
			for eff, ok := range made {
				wantDo, wantUndo := 0, 0
				if ok {
					wantDo = 1
					if !completes {
						wantUndo = 1
					}
				}
				if got[eff] != wantDo || got[undo[eff]] != wantUndo {
					t.Errorf("%s: %d, %s: %d; want %d and %d", eff, got[eff], undo[eff], got[undo[eff]], wantDo, wantUndo)
				}
			}
			for _, ch := range svc.Payments.Charges() {
				wantRefunds := 1
				if ch.Order == "order-2" && completes {
					wantRefunds = 0
				}
				assert.Equal(t, wantRefunds, ch.Refunds, "%s for %s: refunds", ch.ID, ch.Order)
			}
			for _, c := range svc.Calls() {
				if strings.HasPrefix(c.Result, "error") && c.Service != "shipping" {
					t.Errorf("a call failed: %v", c)
				}
			}

			completed, _ := journalRecords(t, path)
			wantComplete := map[string]bool{"order-1": true, "order-2": true}
			if p.kind == saga.RecordBegun {
				delete(wantComplete, "order-2") // it never reached the journal
			}
			assert.Equal(t, wantComplete, completed, "sagas complete")
			wantLine := "recovered order-2: Compensated"
			switch {
			case completes:
				wantLine = "recovered order-2: Done"
			case p.kind == saga.RecordBegun:
				wantLine = "the journal holds no unfinished saga: the order never began"
			}
			if !strings.Contains(out.String(), wantLine+"\n") {
				t.Errorf("output lacks %q:\n%s", wantLine, out.String())
			}
		})
	}
}

// TestMainRefusesAJournalThatExists checks that -db will not reuse a
// journal: the demo's order ids would already be there.
func TestMainRefusesAJournalThatExists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	require.Error(t, mainErr(path), "mainErr on an existing file: got nil error")
}

// TestRunReportsAJournalItCannotOpen checks that a journal that cannot be
// created is an error, not a panic.
func TestRunReportsAJournalItCannotOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no such folder", "orders.db")
	require.Error(t, run(&bytes.Buffer{}, path), "run with a journal in a folder that does not exist: got nil error")
}

// TestRunUntilCrashPassesOtherPanicsOn checks that runUntilCrash stops
// only the simulated crash.
func TestRunUntilCrashPassesOtherPanicsOn(t *testing.T) {
	p, err := newProcess(&bytes.Buffer{}, NewServices(), saga.NewMemoryJournal())
	require.NoError(t, err)
	p.saga, err = saga.New(sagaName, saga.Config{}, []saga.Step[Order]{
		saga.NewStep("explode", func(context.Context, saga.Call[Order]) (string, error) { panic("boom") }, nil),
	})
	require.NoError(t, err)
	defer func() {
		assert.Equal(t, "boom", recover(), "recovered")
	}()
	p.runUntilCrash(context.Background(), order1)
	t.Error("runUntilCrash returned")
}
