// Package saga runs sagas: sequences of steps, each a forward action and
// the compensation that undoes it, that either all take effect or are
// undone, last first, as far as they took effect. A saga can journal its
// progress so that a process that crashes mid-saga has its work finished
// (rolled back) by Recover when it starts again, or by another replica.
//
// A saga is a machine that package engine runs, not a loop beside it. New
// generates its Definition from the steps: Start, a choice state StepN
// per step, a choice state CompensatingN per step that has a compensation,
// and the final states Done, Compensated and CompensationFailed. Entering
// a step runs its action and the outcome is the Event it leaves by, so the
// saga can be drawn, traced with an observer, and stepped in a test:
//
//	reserve := saga.NewStep("reserve inventory", reserveFn, releaseFn)
//	charge := saga.NewStep("charge payment", chargeFn, refundFn)
//	ship := saga.NewStep("create shipment", shipFn, cancelFn)
//	orders, err := saga.New("order", saga.DefaultConfig(), []saga.Step[Order]{reserve, charge, ship})
//	...
//	order, err = orders.Run(ctx, "order-42", order)
//
// When "create shipment" fails, Run refunds the payment, then releases
// the inventory, and returns an *Error in state Compensated whose Cause
// is the shipment's *StepError.
//
// # Steps and keys
//
// A step's action receives a Call: the saga's name, the run's id, the
// step, its Phase and an idempotency key (IdempotencyKey) that is the same
// for every call of that action in that run, retries and recoveries
// included. Every action is called at least once; a service that keys its
// effects by it makes each effect happen once. The saga's state (T) and
// each step's output are encoded as JSON: that is how the journal keeps
// them and how a compensation receives the output of the step it undoes.
//
// # Composing with errorrecovery
//
// A step runs through any errorrecovery.Protector: Step.ProtectedBy takes
// an errorrecovery.Workflow (retry, breaker, bulkhead, deadline and the
// rest around that one step), or one of errorrecovery.NewRetry or NewDeadline, and
// every attempt gets the step's key. Config.Compensation is an
// errorrecovery.CompensationConfig: the retry that protects each
// compensation, the timeout of each on the saga's clock, hooks called when
// compensating starts and ends, and untyped compensations by step name for
// a registry or a config file. Saga.Diagram draws the saga with the
// workflows its steps and compensations run through as clusters, and
// Saga.Trace returns a run's steps with each protected call's steps after
// the step that made it. A workflow's own COMPENSATE
// (errorrecovery.AddCompensation) is the form of one call, not journaled.
//
// # Journals and recovery
//
// With Config.SaveState and a Journal, a saga appends a Record before each
// side effect and another after it. Recover reads the sagas a Journal
// holds incomplete, finds each in a Registry by name, and rolls it back:
// completed steps never run again, each compensation still owed runs at
// least once with its key, and a step whose outcome is unknown is asked
// about through its ResolveFunc (Step.ResolvedBy), else treated as done.
// MemoryJournal keeps a journal in memory for tests; package sqlitejournal
// keeps one in a SQLite file, and package pgjournal one in PostgreSQL
// shared by replicas, each saga leased to one replica at a time
// (LeasedJournal). Package journaltest checks any Journal against the
// contract.
//
// # Errors
//
// Run returns nil when every step succeeded. Otherwise it returns an
// *Error (matching ErrFailed) in state Compensated or CompensationFailed
// (then also matching ErrCompensationFailed, with Owed naming what the
// journal still holds owed); errors.Is and errors.As see through it to its
// Cause (a *StepError, or a *TimeoutError matching ErrTimeout and
// context.DeadlineExceeded) and to each failed compensation. A journal
// write that failed is a *JournalError; a journal refusing an id is a
// *JournalStateError (ErrExists, ErrNotFound); damaged records are a
// *CorruptJournalError (ErrCorruptJournal); a journaled saga that Recover
// cannot match is an *UnregisteredError (ErrUnregistered); a LeasedJournal
// that no longer leases a saga to this process refuses with ErrLeaseLost,
// and the run stops before its next side effect. An invalid Config or
// step is an *errorrecovery.ConfigError naming the field.
//
// # Metrics
//
// Saga.Metrics counts a saga's runs (done or failed), the runs and
// recoveries that rolled back, the steps started and failed, the
// compensations called and failed, and the recoveries Recover ran of it;
// Metrics.Map gives them under the original library's keys where it had
// them ("attempts", "successes", "failures", "compensations").
//
// # Clock
//
// Config.Timeout bounds a run's forward steps on the saga's clock, the
// real one unless WithClock gives another (an enginetest.Clock in tests,
// so a timeout passes when the test advances it, without sleeping).
// Journal records carry the same clock's time. Compensations are not
// bounded by the timeout, and run with the caller's context values but not
// its cancellation: a saga whose caller gave up is still rolled back.
package saga
