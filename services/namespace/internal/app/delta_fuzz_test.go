package app

import (
	"errors"
	"testing"
)

// FuzzDeltaCursor fuzzes queryDeltaLog's cursor parsing (3.18): whatever the string, the parser
// answers ErrCursorInvalid (400 ParamInvalid) or a position whose cursor, encoded again for the
// same space, is exactly the string given; a cursor of one space never parses for another.
func FuzzDeltaCursor(f *testing.F) {
	good := EncodeDeltaCursor("lib1", "sp1", DeltaPosition{Epoch: 1767323045678, Seq: 42})
	for _, s := range []string{good, good + "=", good[:len(good)-1], "", "x", "ZDEuMS4yLjM", "ZDEuLTEuMi4z",
		EncodeDeltaCursor("lib1", "sp2", DeltaPosition{Epoch: 1, Seq: 2}), "ZDEuMDEuMi4z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		p, err := ParseDeltaCursor("lib1", "sp1", cursor)
		if err != nil {
			if !errors.Is(err, ErrCursorInvalid) {
				t.Fatalf("%q: %v is not ErrCursorInvalid", cursor, err)
			}
			return
		}
		if p.Epoch < 0 || p.Seq < 0 {
			t.Fatalf("%q: negative position %+v accepted", cursor, p)
		}
		if again := EncodeDeltaCursor("lib1", "sp1", p); again != cursor {
			t.Fatalf("%q parsed to %+v, which encodes as %q", cursor, p, again)
		}
		if _, err := ParseDeltaCursor("lib1", "sp2", cursor); err == nil {
			t.Fatalf("%q: a cursor of sp1 parsed for sp2", cursor)
		}
	})
}

func TestDeltaCursorRoundTrip(t *testing.T) {
	tests := []DeltaPosition{{}, {Epoch: 1, Seq: 0}, {Epoch: 1767323045678, Seq: 1 << 40}}
	for _, tt := range tests {
		c := EncodeDeltaCursor("lib", "-", tt)
		got, err := ParseDeltaCursor("lib", "-", c)
		if err != nil || got != tt {
			t.Errorf("%+v → %q → %+v, %v", tt, c, got, err)
		}
		if _, err := ParseDeltaCursor("lib", "other", c); !errors.Is(err, ErrCursorInvalid) {
			t.Errorf("%q accepted for another space: %v", c, err)
		}
		if _, err := ParseDeltaCursor("lib2", "-", c); !errors.Is(err, ErrCursorInvalid) {
			t.Errorf("%q accepted for another library: %v", c, err)
		}
	}
}
