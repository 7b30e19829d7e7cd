module github.com/statecraft/statecraft

go 1.26

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/looplab/fsm v1.0.3 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
