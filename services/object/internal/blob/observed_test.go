package blob_test

import (
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/blob/blobtest"
)

// The timing decorator keeps the contract of the store it wraps.
func TestObservedLocalContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return blob.Observed("local", newLocal(t)) })
}

// The cleanup job finds a local store's CleanTemp through the decorator.
func TestObservedKeepsCleanTemp(t *testing.T) {
	s := blob.Observed("local", newLocal(t))
	tc, ok := s.(interface {
		CleanTemp(time.Duration) (int, error)
	})
	if !ok {
		t.Fatal("the observed local store lost CleanTemp")
	}
	if _, err := tc.CleanTemp(time.Hour); err != nil {
		t.Fatal(err)
	}
}
