package enum_test

import (
	"errors"
	"testing"

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
		if got := enum.String(colourNames, c.v, "colour"); got != c.want {
			t.Errorf("String(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestStringOrPrintsTheFallbackForAValueWithoutName(t *testing.T) {
	for _, c := range []struct {
		v    colour
		want string
	}{{1, "RED"}, {0, "colour(?)"}, {7, "colour(?)"}} {
		if got := enum.StringOr(colourNames, c.v, "colour(?)"); got != c.want {
			t.Errorf("StringOr(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestMarshalRefusesAValueWithoutName(t *testing.T) {
	if b, err := enum.Marshal(colourNames, colour(2), "colour", unknownColour); err != nil || string(b) != "GREEN" {
		t.Errorf("Marshal(2) = %q, %v; want GREEN", b, err)
	}
	for _, v := range []colour{0, 3} {
		_, err := enum.Marshal(colourNames, v, "colour", unknownColour)
		var ue *unknownError
		if !errors.As(err, &ue) || ue.name != enum.String(colourNames, v, "colour") {
			t.Errorf("Marshal(%d): %v, want an error naming %s", v, err, enum.String(colourNames, v, "colour"))
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
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("Unmarshal(%q, %d) = %d, %v; want %d", c.text, c.c, got, err, c.want)
		}
		var ue *unknownError
		if !c.ok && (!errors.As(err, &ue) || ue.name != c.text) {
			t.Errorf("Unmarshal(%q, %d): %v, want an error naming %q", c.text, c.c, err, c.text)
		}
	}
}

func TestUnmarshalLeavesTheValueOnAnUnknownName(t *testing.T) {
	v := colour(2)
	if err := enum.Unmarshal(colourNames, enum.MatchCase, &v, []byte("BLUE"), unknownColour); err == nil || v != 2 {
		t.Errorf("Unmarshal(BLUE) = %d, %v; want 2 unchanged and an error", v, err)
	}
}

func TestNamedValuesDoNotAllocate(t *testing.T) {
	var v colour
	testutil.WantAllocs(t, 0, "String", func() { _ = enum.String(colourNames, colour(1), "colour") })
	testutil.WantAllocs(t, 0, "Unmarshal", func() {
		_ = enum.Unmarshal(colourNames, enum.IgnoreCase, &v, []byte("green"), unknownColour)
	})
}
