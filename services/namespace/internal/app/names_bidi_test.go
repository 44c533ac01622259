package app

import (
	"errors"
	"fmt"
	"testing"
)

// bidiFormatting is every character decision 6 refuses for changing the display order of a name.
var bidiFormatting = []rune{
	0x061C,         // ARABIC LETTER MARK
	0x200E, 0x200F, // LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
	0x202A, 0x202B, 0x202C, 0x202D, 0x202E, // embeddings, pop, overrides
	0x2066, 0x2067, 0x2068, 0x2069, // isolates
}

func TestNamesRefuseBidiFormatting(t *testing.T) {
	for _, r := range bidiFormatting {
		for _, raw := range []string{
			fmt.Sprintf("invoice%cgpj.exe", r), // inside a name
			fmt.Sprintf("%c", r),               // the whole name
			fmt.Sprintf("album/%cdir/file.txt", r),
		} {
			t.Run(fmt.Sprintf("U+%04X in %q", r, raw), func(t *testing.T) {
				if _, err := SplitPath(raw, 0); !errors.Is(err, ErrIllegalName) {
					t.Errorf("SplitPath: %v, want ErrIllegalName", err)
				}
				if _, err := SplitFilePath(raw, 0); !errors.Is(err, ErrIllegalName) {
					t.Errorf("SplitFilePath: %v, want ErrIllegalName", err)
				}
			})
		}
	}
	// Right-to-left scripts themselves and format characters that do not reorder text (the zero
	// width joiners, the word joiner, a narrow space) stay allowed.
	for _, ok := range []string{"مرحبا.txt", "שלום עולם.png", "a\u200db", "a\u200cb", "\u202Fnarrow", "\u2060word"} {
		if _, err := SplitFilePath(ok, 0); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}
