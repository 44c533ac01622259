package app

import (
	"encoding/base64"
	"testing"
)

// TestShareIDsAreUnguessable: ShareIds and share codes carry 128 random bits, URL-safe
// (docs/shares.md "Ids and codes"): each decodes to 16 bytes, and 10,000 minted in a row are
// all distinct, as 128 random bits make certain in practice, and no bit position is fixed (a
// counter or a clock in the id would pin some).
func TestShareIDsAreUnguessable(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	var ones [128]int
	for range n {
		id := newShareID()
		if len(id) != 22 {
			t.Fatalf("id %q: %d characters, want 22", id, len(id))
		}
		raw, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(raw) != 16 {
			t.Fatalf("id %q is not 16 bytes of base64url: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("id %q minted twice", id)
		}
		seen[id] = true
		for i := range 128 {
			if raw[i/8]&(1<<(i%8)) != 0 {
				ones[i]++
			}
		}
	}
	for i, c := range ones {
		if c == 0 || c == n {
			t.Fatalf("bit %d is the same in all %d ids", i, n)
		}
	}
}
