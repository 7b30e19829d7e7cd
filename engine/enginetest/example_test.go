package enginetest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// A Recorder attached as an observer keeps every step, so a test can check
// the path a machine took. In a test, enginetest.AssertPath(t, &rec,
// "Closed", "Open", "Closed") does the comparison and reports the first step
// that differs, with a cmp.Diff of the paths.
func ExampleRecorder() {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.On("Closed", "open", "Open")
	b.On("Open", "close", "Closed")
	b.Timeout("Open", 30*time.Second, "Closed")

	var rec enginetest.Recorder
	clock := enginetest.NewClock(time.Time{})
	door, _ := engine.NewInstance(b.MustBuild(), struct{}{}, engine.WithClock(clock), engine.WithObserver(&rec))
	defer door.Close()

	door.Fire(context.Background(), "open")
	clock.Advance(time.Minute)
	door.Fire(context.Background(), "close") // already closed: no transition

	fmt.Println(rec.Path())
	for _, r := range rec.Records {
		fmt.Println(r.Time.Format(time.TimeOnly), r.Event, r.Delayed, r.Transition)
	}
	// Output:
	// [Closed Open Closed]
	// 00:00:00 open false 0
	// 00:00:30 after 30s true 2
	// 00:01:00 close false -1
}

// A goroutine blocked in the clock's Sleep (a retry's backoff, a queued
// call's timeout) counts as a waiter. BlockUntilWaiters lets a test advance
// the clock only once the code under test is waiting on it.
func ExampleClock_BlockUntilWaiters() {
	clock := enginetest.NewClock(time.Time{})
	ctx := context.Background()

	done := make(chan error)
	go func() { done <- clock.Sleep(ctx, time.Minute) }()

	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("waiting:", clock.Waiters())
	clock.Advance(time.Minute)
	fmt.Println("slept:", <-done, "at", clock.Now().Format(time.TimeOnly))
	// Output:
	// waiting: 1
	// slept: <nil> at 00:01:00
}

func ExampleClock_AdvanceToNext() {
	clock := enginetest.NewClock(time.Time{})
	clock.AfterFunc(3*time.Second, func() { fmt.Println("reminder") })
	clock.AfterFunc(10*time.Second, func() { fmt.Println("deadline") })

	for {
		d, ok := clock.AdvanceToNext()
		if !ok {
			break
		}
		fmt.Println("moved", d, "to", clock.Now().Format(time.TimeOnly))
	}
	// Output:
	// reminder
	// moved 3s to 00:00:03
	// deadline
	// moved 7s to 00:00:10
}

// printT is a TestingT that prints the first line of what it is told, to
// show in an example what a test would report. (The lines after it are a
// cmp.Diff, whose exact spacing go-cmp does not promise.)
type printT struct{}

func (printT) Helper() {}

func (printT) Errorf(format string, args ...any) {
	msg, _, _ := strings.Cut(fmt.Sprintf(format, args...), "\n")
	fmt.Println(msg)
}

// The assertions report through the TestingT they are given, as testify's
// do: a test passes its *testing.T. Each returns whether it held.
func ExampleAssertPath() {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.On("Closed", "open", "Open")
	b.On("Open", "close", "Closed")

	rec := &enginetest.Recorder{}
	door, _ := engine.NewInstance(b.MustBuild(), struct{}{}, engine.WithObserver(rec))
	defer door.Close()
	door.Fire(context.Background(), "open")

	var t printT // in a test: t *testing.T
	fmt.Println(enginetest.AssertPath(t, rec, "Closed", "Open"))
	fmt.Println(enginetest.AssertPath(t, rec, "Closed", "Closed"))
	fmt.Println(enginetest.AssertVisited(t, rec, "Open"))
	fmt.Println(enginetest.AssertState(t, door, "Closed"))
	// Output:
	// true
	// enginetest.AssertPath: path differs from step 1 (-want +got):
	// false
	// true
	// enginetest.AssertState: machine "door" is in state Open, want Closed (-want +got):
	// false
}
