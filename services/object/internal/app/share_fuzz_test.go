package app

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseInodeChain fuzzes the inode chain of a visitor's preview, download or zip (13.10,
// 13.11): whatever arrives, it parses to at most 64 positive inodes whose canonical form parses
// back to the same chain, or is refused as bad input; the canonical form is what a zip URL signs.
func FuzzParseInodeChain(f *testing.F) {
	for _, seed := range []string{"", "1", "12/34/56", "0", "-1", "01", "+1", "1//2", "/1", "1/", "a", "9223372036854775807",
		"9223372036854775808", strings.Repeat("1/", 64) + "1", " 1", "1\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		chain, err := ParseInodeChain(s)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%q: %v is not bad input", s, err)
			}
			return
		}
		if len(chain) > maxInodeChain {
			t.Fatalf("%q: %d levels", s, len(chain))
		}
		for _, n := range chain {
			if n <= 0 {
				t.Fatalf("%q: inode %d", s, n)
			}
		}
		canonical := formatInodeChain(chain)
		if canonical != s {
			t.Fatalf("%q parsed but its canonical form is %q", s, canonical)
		}
	})
}

// FuzzShareZipQuery fuzzes the data endpoint's folder download URL: whatever share code and
// query arrive, the URL verifies only as it was signed, and the names a tree turns into are
// never absolute and never climb out of the folder.
func FuzzShareZipQuery(f *testing.F) {
	s := NewSigner("fuzz operator key")
	signed := s.ZipPath("code1", "7/8", signedAt.Add(time.Hour))
	_, query, _ := strings.Cut(signed, "?")
	f.Add("code1", query, "..")
	f.Add("code1", query+"&chain=7", `a\b`)
	f.Add("code2", query, "C:")
	f.Add("code1", strings.Replace(query, "chain=7%2F8", "chain=7", 1), "/etc")
	f.Add("code1", "", "")
	f.Fuzz(func(t *testing.T, code, rawQuery, segment string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		chain, err := s.VerifyZip(code, q, signedAt)
		if err == nil && (code != "code1" || chain != "7/8") {
			t.Fatalf("code %q chain %q verified from %q", code, chain, rawQuery)
		}
		if err != nil && !isSignatureError(err) {
			t.Fatalf("unexpected error %v", err)
		}
		name := zipPath([]string{segment, segment})
		if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || strings.Contains(name, ":") {
			t.Fatalf("unsafe name %q", name)
		}
		for _, part := range strings.Split(name, "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("unsafe segment in %q", name)
			}
		}
	})
}
