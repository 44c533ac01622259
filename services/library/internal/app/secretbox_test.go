package app

import (
	"bytes"
	"errors"
	"testing"
)

func TestSecretBox(t *testing.T) {
	box, err := newSecretBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const id, other = "smh0123456789abc", "smh0123456789abd"
	sealed, err := box.seal(id, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("sealed secret holds the plain text")
	}
	again, _ := box.seal(id, "s3cret")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are equal: nonce not random")
	}
	if got, err := box.open(id, sealed); err != nil || got != "s3cret" {
		t.Fatalf("open = %q, %v", got, err)
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	otherKey, _ := newSecretBox(bytes.Repeat([]byte{8}, 32))
	tests := []struct {
		name   string
		box    *secretBox
		id     string
		sealed []byte
	}{
		{"other library", box, other, sealed},
		{"tampered", box, id, tampered},
		{"other key", otherKey, id, sealed},
		{"truncated", box, id, sealed[:5]},
		{"unknown version", box, id, append([]byte{9}, sealed[1:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.box.open(tt.id, tt.sealed); !errors.Is(err, ErrSecretUnreadable) {
				t.Fatalf("open = %v, want ErrSecretUnreadable", err)
			}
		})
	}
}

func TestSecretBoxKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := newSecretBox(make([]byte, n)); err == nil {
			t.Fatalf("%d-byte key accepted", n)
		}
	}
}
