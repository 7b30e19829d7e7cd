package journalrow

import (
	"errors"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// The checksum is part of the on-disk format of both journals: databases
// written by earlier versions must still verify. The expected value is
// computed from the format's definition, not from Sum.
func TestSumIsCRC32COfNULTerminatedColumns(t *testing.T) {
	r := Row{SagaID: "order-7", Seq: 12, Kind: "step-done", Body: `{"x":1}`}
	want := int64(crc32.Checksum([]byte("order-7\x0012\x00step-done\x00{\"x\":1}\x00"), crc32.MakeTable(crc32.Castagnoli)))
	require.Equal(t, want, r.Sum(), "Sum")
}

func TestNewDecodeRoundTrip(t *testing.T) {
	rec := saga.Record{SagaID: "order-7", Saga: "order", Seq: 1, Kind: saga.RecordBegun}
	r, err := New(40, rec)
	require.NoError(t, err, "New")
	require.Equal(t, int64(40), r.ID, "New")
	require.Equal(t, int64(1), r.Seq, "New")
	require.Equal(t, "order-7", r.SagaID, "New")
	require.True(t, r.Valid(), "New")
	got, err := r.Decode()
	require.NoError(t, err, "Decode")
	require.Equal(t, rec.SagaID, got.SagaID, "Decode")
	require.Equal(t, rec.Saga, got.Saga, "Decode")
	require.Equal(t, rec.Seq, got.Seq, "Decode")
	require.Equal(t, rec.Kind, got.Kind, "Decode")
}

func TestDecodeRefusesABodyThatDisagreesWithItsColumns(t *testing.T) {
	r, err := New(1, saga.Record{SagaID: "a", Saga: "order", Seq: 1, Kind: saga.RecordBegun})
	require.NoError(t, err)
	r.SagaID = "b"
	r.Checksum = r.Sum()
	_, err = r.Decode()
	if ce, ok := errors.AsType[*saga.CorruptJournalError](err); !ok || ce.SagaID != "b" || ce.Seq != 1 {
		t.Fatalf("Decode = %v, want a *CorruptJournalError for saga b, record 1", err)
	}
	r.Body = "{"
	if _, err := r.Decode(); !errors.As(err, new(*saga.CorruptJournalError)) {
		t.Fatalf("Decode of a broken body = %v, want a *CorruptJournalError", err)
	}
	if r.Valid() {
		t.Fatal("Valid after the body changed: want false")
	}
}
