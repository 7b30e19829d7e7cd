package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Error is one problem found in a config file: where it is and what is
// wrong.
type Error struct {
	// File is the name the file was read under; it may be empty.
	File string
	// Line and Column locate the problem, 1-based; zero when it has no
	// place in the file (a required setting that is missing, say).
	Line, Column int
	// Field is the dotted path of the setting, such as
	// "retry.max_attempts" or "secondary[1]"; empty for the file as a
	// whole.
	Field string
	// Err says what is wrong: an *errorrecovery.ConfigError or
	// *errorrecovery.UnknownNameError for a value the package refuses, a
	// *UnknownClassError, or an error of the YAML decoder.
	Err error

	msg string // what Error says of Err, when not Err's own text
}

// Error returns "file:line:column: field: problem", leaving out what is
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.msg != "" {
		b.WriteString(e.msg)
	} else {
		b.WriteString(describe(e.Err))
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a file, in the order of the file as
// far as can be told. Parse returns one when a file is invalid.
type Errors []*Error

// Error returns the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.As finds the first *Error
// and errors.Is looks through each.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// UnknownClassError reports an error class name that is not registered.
type UnknownClassError struct {
	// Name is the name given.
	Name string
	// Known are the registered names, sorted.
	Known []string
}

// Error names the class and lists the known ones.
func (e *UnknownClassError) Error() string {
	return fmt.Sprintf("unknown error class %q (registered: %s)", e.Name, strings.Join(e.Known, ", "))
}

// describe words err for a person reading a config file: the package's
// errors lose their Go names, which mean nothing in YAML.
func describe(err error) string {
	if ce, ok := errors.AsType[*errorrecovery.ConfigError](err); ok {
		return fmt.Sprintf("%s (got %s)", ce.Reason, ce.Value)
	}
	if ue, ok := errors.AsType[*errorrecovery.UnknownNameError](err); ok {
		return strings.TrimPrefix(ue.Error(), "errorrecovery: ")
	}
	return err.Error()
}

// IntegerError reports a number given to a setting that takes an integer
// but that is not one: it has a fraction (2.9), or it is beyond an int
// (1e19, .inf). A number with no fraction written as a float (3.0, 1e3)
// is an integer.
type IntegerError struct {
	// Value is the number as the file writes it.
	Value string
	// OutOfRange reports a number beyond an int, rather than one with a
	// fraction.
	OutOfRange bool
}

// Error says what is wrong with the number.
func (e *IntegerError) Error() string {
	if e.OutOfRange {
		return e.Value + " is out of range for an integer"
	}
	return e.Value + " is not an integer"
}
