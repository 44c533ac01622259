package app

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// nameSeeds are the shapes names take in hostile requests: encodings the dispatcher already
// decoded, dots, separators, control and bidi characters, invalid UTF-8, and lengths around 255.
var nameSeeds = []string{
	"", "a", "a.jpg", ".", "..", "...", ".profile", "a/b", "/", `a\b`, "a\x00b", "a\nb", "\x7f", "\u0085",
	"\u202egpj.exe", "\u200b", "\ufeffa", "相册", "a b+c#?%2F", "%2e%2e", "\xff", "\xc0\xaf", "\xed\xa0\x80",
	strings.Repeat("相", 255), strings.Repeat("a", 256), strings.Repeat("é", 300),
}

// checkAccepted fails unless name is one decision 6 allows: valid UTF-8, not empty, "." or "..",
// no "/", "\", NUL or other control character, at most limit runes.
func checkAccepted(t *testing.T, name string, limit int) {
	t.Helper()
	if !utf8.ValidString(name) || name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
		t.Fatalf("accepted name %q", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			t.Fatalf("accepted name %q with control character %U", name, r)
		}
	}
	if n := utf8.RuneCountInString(name); n > limit {
		t.Fatalf("accepted a name of %d characters, limit %d", n, limit)
	}
}

// effectiveLimit is the name length limit a library's setting maxLen means (decision 6).
func effectiveLimit(maxLen int) int {
	if maxLen <= 0 || maxLen > 255 {
		return 255
	}
	return maxLen
}

// isInputError reports whether err reaches the client as a 4xx naming the offending input.
func isInputError(err error) bool {
	var in *InputError
	return errors.As(err, &in)
}

// FuzzCheckName fuzzes the name validator: it accepts only names decision 6 allows, and refuses
// the rest as IllegalFileName (an input error) or as too long.
func FuzzCheckName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s, 0)
	}
	f.Add("abcdef", 5)
	f.Add("abcdef", -1)
	f.Add("abcdef", 1000)
	f.Fuzz(func(t *testing.T, name string, maxLen int) {
		err := checkName(name, maxLen)
		switch {
		case err == nil:
			checkAccepted(t, name, effectiveLimit(maxLen))
		case errors.Is(err, ErrIllegalName):
			if !isInputError(err) {
				t.Fatalf("IllegalFileName for %q is not an input error: %v", name, err)
			}
		case errors.Is(err, ErrNameTooLong):
			if utf8.RuneCountInString(name) <= effectiveLimit(maxLen) {
				t.Fatalf("%q refused as too long under limit %d", name, maxLen)
			}
		default:
			t.Fatalf("checkName(%q) = %v", name, err)
		}
	})
}

// FuzzSplitPath fuzzes the directory path parser: an accepted path is its names joined by "/"
// (one leading and one trailing "/" dropped, nothing else changed), each name accepted.
func FuzzSplitPath(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s, 0)
		f.Add("/a/"+s+"/", 0)
	}
	f.Add("a//b", 0)
	f.Add(strings.Repeat("a/", 300), 0)
	f.Fuzz(func(t *testing.T, raw string, maxLen int) {
		names, err := SplitPath(raw, maxLen)
		if err != nil {
			if !errors.Is(err, ErrIllegalName) && !errors.Is(err, ErrNameTooLong) {
				t.Fatalf("SplitPath(%q) = %v", raw, err)
			}
			return
		}
		trimmed := strings.TrimSuffix(strings.TrimPrefix(raw, "/"), "/")
		if got := strings.Join(names, "/"); got != trimmed {
			t.Fatalf("SplitPath(%q) = %q, which joins to %q", raw, names, got)
		}
		for _, name := range names {
			checkAccepted(t, name, effectiveLimit(maxLen))
		}
	})
}

// FuzzSplitFilePath fuzzes the file path parser: an accepted path has at least the file name,
// keeps every name as given, and a refused one says which rule it broke.
func FuzzSplitFilePath(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s, 0)
		f.Add("a/"+s, 0)
		f.Add(s+"/b.jpg", 0)
	}
	f.Add("a/", 0)
	f.Add("/a", 0)
	f.Fuzz(func(t *testing.T, raw string, maxLen int) {
		names, err := SplitFilePath(raw, maxLen)
		if err != nil {
			switch {
			case errors.Is(err, ErrEmptyFileName):
				if trimmed := strings.TrimPrefix(raw, "/"); trimmed != "" && !strings.HasSuffix(trimmed, "/") {
					t.Fatalf("EmptyFileName for %q", raw)
				}
			case errors.Is(err, ErrIllegalName), errors.Is(err, ErrNameTooLong), errors.Is(err, ErrFileNameTooLong):
			default:
				t.Fatalf("SplitFilePath(%q) = %v", raw, err)
			}
			return
		}
		if len(names) == 0 || strings.Join(names, "/") != strings.TrimPrefix(raw, "/") {
			t.Fatalf("SplitFilePath(%q) = %q", raw, names)
		}
		for _, name := range names {
			checkAccepted(t, name, effectiveLimit(maxLen))
		}
	})
}
