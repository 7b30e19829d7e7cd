package testutil

import "time"

// Quick bounds the wall time of an operation that must fail fast on
// hostile input (a device for a config file, a nesting 100,000 deep, a
// retry that would run for days): one that hangs or blows up runs far
// longer, or forever. It is generous because tests run with -race, on
// two cores, beside other packages' tests: a tight bound measures the
// machine, not the code.
const Quick = 10 * time.Second
