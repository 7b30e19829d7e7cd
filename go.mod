module github.com/statecraft/statecraft

go 1.26

require (
	github.com/looplab/fsm v1.0.3
	go.uber.org/goleak v1.3.0
	gonum.org/v1/gonum v0.17.0
)
