package enum_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/internal/testutil"
)

type colour uint8

// The zero colour is unset: its name is empty.
var colourNames = []string{"", "RED", "GREEN"}

type unknownError struct{ name string }

func (e *unknownError) Error() string { return "unknown colour " + e.name }

func unknownColour(name string) error { return &unknownError{name} }

func TestStringPrintsTheNameOrTheTypeAndValue(t *testing.T) {
	for _, c := range []struct {
		v    colour
		want string
	}{
		{1, "RED"}, {2, "GREEN"},
		{0, "colour(0)"}, // an empty name
		{3, "colour(3)"}, // past the table
		{255, "colour(255)"},
	} {
		assert.Equal(t, c.want, enum.String(colourNames, c.v, "colour"), "String(%d)", c.v)
	}
}

func TestStringOrPrintsTheFallbackForAValueWithoutName(t *testing.T) {
	for _, c := range []struct {
		v    colour
		want string
	}{{1, "RED"}, {0, "colour(?)"}, {7, "colour(?)"}} {
		assert.Equal(t, c.want, enum.StringOr(colourNames, c.v, "colour(?)"), "StringOr(%d)", c.v)
	}
}

func TestMarshalRefusesAValueWithoutName(t *testing.T) {
	b, err := enum.Marshal(colourNames, colour(2), "colour", unknownColour)
	require.NoError(t, err, "Marshal(2)")
	assert.Equal(t, "GREEN", string(b), "Marshal(2)")
	for _, v := range []colour{0, 3} {
		_, err := enum.Marshal(colourNames, v, "colour", unknownColour)
		var ue *unknownError
		if assert.ErrorAs(t, err, &ue, "Marshal(%d)", v) {
			assert.Equal(t, enum.String(colourNames, v, "colour"), ue.name, "Marshal(%d): the name in the error", v)
		}
	}
}

func TestUnmarshalFollowsTheCaseRule(t *testing.T) {
	for _, c := range []struct {
		text string
		c    enum.Case
		want colour
		ok   bool
	}{
		{"GREEN", enum.MatchCase, 2, true},
		{"green", enum.MatchCase, 0, false},
		{"green", enum.IgnoreCase, 2, true},
		{"Red", enum.IgnoreCase, 1, true},
		{"", enum.IgnoreCase, 0, false}, // the empty name of the zero value matches nothing
		{"BLUE", enum.IgnoreCase, 0, false},
	} {
		var got colour
		err := enum.Unmarshal(colourNames, c.c, &got, []byte(c.text), unknownColour)
		if c.ok {
			assert.NoError(t, err, "Unmarshal(%q, %d)", c.text, c.c)
			assert.Equal(t, c.want, got, "Unmarshal(%q, %d)", c.text, c.c)
			continue
		}
		var ue *unknownError
		if assert.ErrorAs(t, err, &ue, "Unmarshal(%q, %d)", c.text, c.c) {
			assert.Equal(t, c.text, ue.name, "Unmarshal(%q, %d): the name in the error", c.text, c.c)
		}
	}
}

func TestUnmarshalLeavesTheValueOnAnUnknownName(t *testing.T) {
	v := colour(2)
	assert.Error(t, enum.Unmarshal(colourNames, enum.MatchCase, &v, []byte("BLUE"), unknownColour), "Unmarshal(BLUE)")
	assert.Equal(t, colour(2), v, "the value after Unmarshal(BLUE)")
}

func TestNamedValuesDoNotAllocate(t *testing.T) {
	var v colour
	testutil.WantAllocs(t, 0, "String", func() { _ = enum.String(colourNames, colour(1), "colour") })
	testutil.WantAllocs(t, 0, "Unmarshal", func() {
		_ = enum.Unmarshal(colourNames, enum.IgnoreCase, &v, []byte("green"), unknownColour)
	})
}
