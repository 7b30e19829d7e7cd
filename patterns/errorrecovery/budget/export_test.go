package budget

// AddLateDeposit counts a deposit in slice idx, as a Deposit whose caller
// read the clock at that slice and was held up since would.
func AddLateDeposit(b *Budget, idx int64) { b.dep.add(idx) }
