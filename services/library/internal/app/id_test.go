package app

import (
	"encoding/base64"
	"testing"
)

func TestNewLibraryID(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, err := newLibraryID()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidLibraryID(id) {
			t.Fatalf("newLibraryID() = %q, not of the library-id form", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestValidLibraryID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"smh0123456789abc", true},
		{"smhzzzzzzzzzzzzz", true},
		{"smh0123456789ab", false},   // 12
		{"smh0123456789abcd", false}, // 14
		{"smh0123456789ABC", false},
		{"abc0123456789abc", false},
		{"smh0123456789ab-", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := ValidLibraryID(tt.id); got != tt.want {
				t.Fatalf("ValidLibraryID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, err := newSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) < 32 {
		t.Fatalf("secret %d bytes, err %v; want 32 URL-safe bytes", len(raw), err)
	}
}
