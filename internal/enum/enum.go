// Package enum prints and parses the names of statecraft's enum types:
// small unsigned integers whose names are a table indexed by value.
//
// Each enum type keeps its own String (and, where it is read from text,
// MarshalText and UnmarshalText) method, one line over these functions, so
// that what happens to a value without a name, and which spellings parse,
// is written once. In a table, an empty name marks a value that is not one
// of the type's, such as a zero that means "unset": it prints like a value
// past the end of the table and no text parses to it.
package enum

import (
	"strconv"
	"strings"
)

// String returns v's name, names[v], or when v has none typeName followed
// by v in parentheses, such as "Phase(9)".
func String[E ~uint8](names []string, v E, typeName string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return typeName + "(" + strconv.Itoa(int(v)) + ")"
}

// StringOr returns v's name, names[v], or fallback when v has none.
func StringOr[E ~uint8](names []string, v E, fallback string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fallback
}

// Marshal returns v's name as text. When v has none it returns the error
// that unknown makes of String(names, v, typeName), such as "Strategy(0)".
func Marshal[E ~uint8](names []string, v E, typeName string, unknown func(name string) error) ([]byte, error) {
	if int(v) < len(names) && names[v] != "" {
		return []byte(names[v]), nil
	}
	return nil, unknown(String(names, v, typeName))
}

// Case says whether Unmarshal tells upper from lower case.
type Case uint8

// The cases.
const (
	MatchCase  Case = iota // the text must be the name exactly
	IgnoreCase             // the text may be the name in any case (Unicode simple folding, as strings.EqualFold)
)

// Unmarshal sets *p to the value whose name is text, compared as c says,
// and returns nil. When no value has that name it leaves *p as it is and
// returns the error that unknown makes of the text. An empty name matches
// no text, not even an empty one.
func Unmarshal[E ~uint8](names []string, c Case, p *E, text []byte, unknown func(name string) error) error {
	for i, name := range names {
		if name != "" && (name == string(text) || c == IgnoreCase && strings.EqualFold(string(text), name)) {
			*p = E(i)
			return nil
		}
	}
	return unknown(string(text))
}
