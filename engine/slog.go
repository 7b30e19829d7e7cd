package engine

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
)

// SlogObserver is an Observer that logs each step through a *slog.Logger:
// one record per step, with the machine, the state it started in, the
// event, the state it ended in, the guards tried and how they came out,
// the transition taken, the step's duration on the clock and its error;
// for a hierarchical machine also the states exited and entered.
// When its level is disabled it returns at once and allocates nothing, so
// it may stay attached in production and be turned on by the logger's
// level.
//
// A step that failed logs at slog.LevelWarn, or at the observer's level
// when that is higher.
type SlogObserver struct {
	logger *slog.Logger
	level  slog.Level
}

// NewSlogObserver returns an observer logging through logger at level. A
// nil logger means slog.Default().
func NewSlogObserver(logger *slog.Logger, level slog.Level) *SlogObserver {
	if logger == nil {
		logger = slog.Default()
	}
	return &SlogObserver{logger: logger, level: level}
}

// Observe logs r, if the logger is enabled at its level.
func (o *SlogObserver) Observe(r Record) {
	level := o.level
	if r.Err != nil {
		level = max(level, slog.LevelWarn)
	}
	ctx := context.Background()
	if !o.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("machine", r.Machine),
		slog.String("from", r.From),
		slog.String("event", r.Event),
		slog.String("to", r.To),
		slog.Int("transition", r.Transition),
		slog.Duration("duration", r.Duration),
	)
	if r.Delayed {
		attrs = append(attrs, slog.Bool("delayed", true))
	}
	if r.Raised {
		attrs = append(attrs, slog.Bool("raised", true))
	}
	if len(r.Guards) > 0 {
		attrs = append(attrs, slog.String("guards", guardsText(r.Guards)))
	}
	if r.Exited != nil || r.Entered != nil { // a hierarchical machine's
		attrs = append(attrs, slog.String("exited", strings.Join(r.Exited, ",")), slog.String("entered", strings.Join(r.Entered, ",")))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.Any("error", r.Err))
	}
	o.logger.LogAttrs(ctx, level, "step", attrs...)
}

// guardsText prints guard outcomes as "[attempts left]=true, [fits]=false",
// in the order they were tried.
func guardsText(gs []GuardOutcome) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		b.WriteString(g.Guard)
		b.WriteString("]=")
		b.WriteString(strconv.FormatBool(g.Held))
	}
	return b.String()
}
