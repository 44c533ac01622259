package fileattr

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// refused checks that err is this package's refusal with a reason for the caller.
func refused(t *testing.T, err error) {
	t.Helper()
	var inv *smherr.Invalid
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &inv) || inv.Detail() == "" {
		t.Fatalf("err = %v, want a refusal classified by ErrInvalid with a reason", err)
	}
}

func TestMetaKey(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"x-smh-meta-color", "x-smh-meta-color", true},
		{"X-SMH-Meta-Color", "x-smh-meta-color", true},
		{"x-smh-meta-a-1-b", "x-smh-meta-a-1-b", true},
		{"x-smh-meta-" + strings.Repeat("a", MaxMetaKeyBytes-len(MetaPrefix)), "x-smh-meta-" + strings.Repeat("a", MaxMetaKeyBytes-len(MetaPrefix)), true},
		{"x-smh-meta-" + strings.Repeat("a", MaxMetaKeyBytes-len(MetaPrefix)+1), "", false},
		// The headers the service sets, bare or under another x-smh- name.
		{"location", "", false},
		{"Location", "", false},
		{"etag", "", false},
		{"set-cookie", "", false},
		{"content-type", "", false},
		{"x-smh-http-status", "", false},
		{"x-smh-request-id", "", false},
		{"x-smh-crc64", "", false},
		{"x-smh-size", "", false},
		{"x-smh-meta-", "", false},
		{"x-smh-meta", "", false},
		{"", "", false},
		{"x-smh-meta-a_b", "", false},
		{"x-smh-meta-a.b", "", false},
		{"x-smh-meta-a b", "", false},
		{"x-smh-meta-a:b", "", false},
		{"x-smh-meta-a\r\nlocation", "", false},
		{"x-smh-meta-a\x00", "", false},
		// U+212A KELVIN SIGN lower-cases to "k" in Unicode; it is not folded.
		{"x-smh-meta-\u212a", "", false},
		{"x-smh-meta-é", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := MetaKey(tt.raw)
			if !tt.ok {
				refused(t, err)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("MetaKey(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestCheckMeta(t *testing.T) {
	// fill makes one pair whose key and value take exactly n bytes together.
	fill := func(n int) map[string]string {
		key := "x-smh-meta-big"
		return map[string]string{key: strings.Repeat("v", n-len(key))}
	}
	tests := []struct {
		name string
		meta map[string]string
		ok   bool
	}{
		{"nil", nil, true},
		{"empty value", map[string]string{"x-smh-meta-a": ""}, true},
		{"printable", map[string]string{"x-smh-meta-a": `Ann Lee ~!"#$%&'()*+,-./:;<=>?@[\]^_{|}`}, true},
		{"at the budget", fill(MaxMetaBytes), true},
		{"over the budget", fill(MaxMetaBytes + 1), false},
		{"over the budget in many pairs", func() map[string]string {
			m := map[string]string{}
			for i := range 100 {
				m["x-smh-meta-k"+strings.Repeat("x", i)] = "0123456789"
			}
			return m
		}(), false},
		{"500 KB value", map[string]string{"x-smh-meta-a": strings.Repeat("a", 500<<10)}, false},
		{"bare location", map[string]string{"location": "https://evil.example/x"}, false},
		{"upper-case key", map[string]string{"x-smh-meta-A": "v"}, false},
		{"CR", map[string]string{"x-smh-meta-a": "v\rlocation: x"}, false},
		{"LF", map[string]string{"x-smh-meta-a": "v\nx"}, false},
		{"NUL", map[string]string{"x-smh-meta-a": "v\x00"}, false},
		{"tab", map[string]string{"x-smh-meta-a": "v\tw"}, false},
		{"DEL", map[string]string{"x-smh-meta-a": "v\x7f"}, false},
		{"non-ASCII", map[string]string{"x-smh-meta-a": "蓝"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMeta(tt.meta)
			if !tt.ok {
				refused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("CheckMeta: %v", err)
			}
		})
	}
}

func TestFromHeaders(t *testing.T) {
	got, err := FromHeaders(map[string][]string{
		"x-smh-meta-color": {"blue"}, "X-Smh-Meta-Owner": {"Ann"}, "x-smh-other": {"not metadata"},
		"location": {"https://evil.example/x"}, "content-type": {"application/json"},
	})
	if err != nil || len(got) != 2 || got["x-smh-meta-color"] != "blue" || got["x-smh-meta-owner"] != "Ann" {
		t.Fatalf("FromHeaders = %v, %v", got, err)
	}
	if got, err := FromHeaders(map[string][]string{"authorization": {"x"}}); err != nil || got != nil {
		t.Fatalf("no metadata headers: %v, %v", got, err)
	}
	for name, h := range map[string]map[string][]string{
		"repeated header":    {"x-smh-meta-a": {"1", "2"}},
		"two spellings":      {"x-smh-meta-a": {"1"}, "X-Smh-Meta-A": {"2"}},
		"empty name":         {"x-smh-meta-": {"v"}},
		"underscore":         {"x-smh-meta-a_b": {"v"}},
		"control in value":   {"x-smh-meta-a": {"v\x01"}},
		"500 KB value":       {"x-smh-meta-a": {strings.Repeat("a", 500<<10)}},
		"over 2 KB in pairs": {"x-smh-meta-a": {strings.Repeat("a", 1500)}, "x-smh-meta-b": {strings.Repeat("b", 600)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromHeaders(h)
			refused(t, err)
		})
	}
}

func TestHeaderPairs(t *testing.T) {
	stored := map[string]string{
		"x-smh-meta-b":      "two",
		"x-smh-meta-a":      "one",
		"location":          "https://evil.example/x",
		"etag":              `"forged"`,
		"x-smh-http-status": "200",
		"x-smh-request-id":  "forged",
		"x-smh-crc64":       "1",
		"set-cookie":        "session=forged",
		"x-smh-meta-crlf":   "v\r\nlocation: https://evil.example/x",
		"x-smh-meta-A":      "upper",
		"x-smh-meta-u_s":    "underscore",
		"x-smh-meta-huge":   strings.Repeat("h", 500<<10),
	}
	want := []string{"x-smh-meta-a", "one", "x-smh-meta-b", "two"}
	if got := HeaderPairs(stored); !slices.Equal(got, want) {
		t.Fatalf("HeaderPairs = %q, want %q", got, want)
	}
	// Old rows over the budget give their first pairs in key order, up to the budget.
	many := map[string]string{}
	for _, k := range []string{"a", "b", "c"} {
		many["x-smh-meta-"+k] = strings.Repeat(k, 1000)
	}
	got := HeaderPairs(many)
	if len(got) != 4 || got[0] != "x-smh-meta-a" || got[2] != "x-smh-meta-b" {
		t.Fatalf("over the budget: keys %q", []string{got[0], got[2]})
	}
	if HeaderPairs(nil) != nil {
		t.Fatal("no metadata, no headers")
	}
}

func TestCheckLabels(t *testing.T) {
	many := func(n int) []string { return slices.Repeat([]string{"l"}, n) }
	tests := []struct {
		name   string
		labels []string
		ok     bool
	}{
		{"none", nil, true},
		{"at the count", many(MaxLabels), true},
		{"over the count", many(MaxLabels + 1), false},
		{"at the length in characters", []string{strings.Repeat("蓝", MaxLabelChars)}, true},
		{"over the length", []string{strings.Repeat("a", MaxLabelChars+1)}, false},
		{"empty", []string{""}, false},
		{"newline", []string{"a\nb"}, false},
		{"NUL", []string{"a\x00"}, false},
		{"C1 control", []string{"a\u0085"}, false},
		{"invalid UTF-8", []string{"a\xff"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLabels(tt.labels)
			if !tt.ok {
				refused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("CheckLabels: %v", err)
			}
		})
	}
}

func TestCheckCategory(t *testing.T) {
	for _, ok := range []string{"", "photos", strings.Repeat("c", MaxCategoryBytes), "照片"} {
		if err := CheckCategory(ok); err != nil {
			t.Errorf("CheckCategory(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{strings.Repeat("c", MaxCategoryBytes+1), "a\r\nb", "\x00", "\xff", "照片照片照片"} {
		refused(t, CheckCategory(bad))
	}
}

func TestCheck(t *testing.T) {
	if err := Check(map[string]string{"x-smh-meta-a": "b"}, []string{"x"}, "c"); err != nil {
		t.Fatal(err)
	}
	refused(t, Check(map[string]string{"location": "x"}, nil, ""))
	refused(t, Check(nil, slices.Repeat([]string{"l"}, MaxLabels+1), ""))
	refused(t, Check(nil, nil, strings.Repeat("c", 17)))
}
