package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The run starts the call in a goroutine; it is gone when run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunUndoesEveryReservationInReverse(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	got := out.String()
	assert.Contains(t, got, "path: Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Attempt → Fallback → Compensate → Done\n")
	releases := []string{"release order-1042/attempt-3", "release order-1042/attempt-2", "release order-1042/attempt-1"}
	last := -1
	for _, r := range releases {
		i := strings.Index(got, r)
		require.Greater(t, i, last, "%q in reverse order", r)
		last = i
	}
	assert.Contains(t, got, "compensated: [reserve reserve reserve], failed to compensate: 0\n")
	assert.Contains(t, got, "the payment error is there: true\n")

	var again bytes.Buffer
	require.NoError(t, run(&again))
	assert.Equal(t, got, again.String(), "the same output every run")
}
