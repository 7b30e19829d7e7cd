// Package errorrecovery holds statecraft's prewired resilience machines:
// retry (with five backoff strategies), deadline, circuit breaker and
// bulkhead, with fallback and cache, and the workflow that layers them.
// The shared machines are packages beneath this one: breaker (the
// CIRCUIT_BREAKER strategy, ErrorRecoveryConfig.Breaker and SharedBreaker),
// bulkhead (BULKHEAD: Bulkhead and SharedBulkhead) and cache (CACHE: Cache
// and SharedCache). Sagas, their journals and recovery are package saga;
// a saga's step is protected by any Protector here (a Workflow, a
// RetryExecutor, a DeadlineExecutor), and its compensations run as a
// CompensationConfig says.
//
// Every strategy is a machine definition that package engine runs, not a
// loop beside it: a retry is a Run of RetryDefinition (Attempt is a choice
// state that calls the function and branches on the outcome; Backoff is a
// delayed transition back to Attempt); a circuit breaker and a bulkhead are
// shared Instances of their definitions. So each can be printed as a
// diagram, traced step by step, and driven on enginetest's manual clock.
//
// Configs are plain structs with a DefaultXConfig constructor carrying the
// defaults of the Python library this package reimplements; each field says
// whether zero means "default" or zero, and Validate refuses bad values with
// a *ConfigError naming the field.
package errorrecovery
