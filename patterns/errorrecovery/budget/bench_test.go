package budget_test

import (
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

func benchBudget(b *testing.B) *budget.Budget {
	bu, err := budget.New(budget.Config{Ratio: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bu.Close)
	return bu
}

// Deposit: a clock reading and a compare-and-swap, per execution.
func BenchmarkDeposit(b *testing.B) {
	bu := benchBudget(b)
	b.ReportAllocs()
	for b.Loop() {
		bu.Deposit()
	}
}

// The same from GOMAXPROCS goroutines.
func BenchmarkDepositParallel(b *testing.B) {
	bu := benchBudget(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bu.Deposit()
		}
	})
}

// An execution and an allowed retry: the retry is a step of the machine.
func BenchmarkDepositWithdraw(b *testing.B) {
	bu := benchBudget(b)
	b.ReportAllocs()
	for b.Loop() {
		bu.Deposit()
		_ = bu.Withdraw()
	}
}

// A refused retry while Exhausted: no lock.
func BenchmarkWithdrawRefused(b *testing.B) {
	bu, err := budget.New(budget.Config{Ratio: 0.5, MinPerSecond: budget.NoMinimum})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bu.Close)
	_ = bu.Withdraw()
	b.ReportAllocs()
	for b.Loop() {
		_ = bu.Withdraw()
	}
}
