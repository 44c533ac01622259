package app

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzShareBodies fuzzes the create (13.1) and update (13.7) bodies as the gateway decodes
// them: the parser answers a checked body or an input error (a 4xx), never a panic, and what it
// accepts keeps the documented bounds (docs/shares.md).
func FuzzShareBodies(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","filePath":["x"],"config":{"isPermanent":true}}`,
		`{"name":"a","filePath":["x","y/z"],"config":{"expireTime":"2026-01-02T03:04:05.678Z","extractionCode":"ab12","canPreview":true,"previewLimit":3}}`,
		`{"name":"a","filePath":["x"],"config":{"isPermanent":true,"forbidAnonymousUser":true,"userLimit":"2","shareToUsers":["u1","u1"]}}`,
		`{"name":"a","filePath":[],"config":{}}`, `{"name":"","filePath":["x"]}`, `{"filePath":["/"]}`,
		`{"name":"a","filePath":["x"],"config":{"isPermanent":true,"previewLimit":-1}}`,
		`{"name":"a","filePath":["x"],"config":{"isPermanent":true,"previewLimit":1.5}}`,
		`{"name":"a","filePath":["x"],"config":{"expireTime":"yesterday"}}`, `{"config":[]}`, `{"name":"a\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body map[string]any
		if json.Unmarshal(data, &body) != nil {
			return
		}
		check := func(err error, c ShareConfig) {
			if err != nil {
				var in *InputError
				// ErrNameTooLong is SplitPath's 400 DirectoryNameLengthExceed (transport's map).
				if !errors.As(err, &in) && !errors.Is(err, ErrTooManyItems) && !errors.Is(err, ErrNameTooLong) {
					t.Fatalf("%s: %v is not an input error", data, err)
				}
				return
			}
			if len(c.ExtractionCode) > maxExtractionCode || c.PreviewLimit < 0 || c.PreviewLimit > maxShareCounter ||
				c.DownloadLimit < 0 || c.UserLimit < 0 || (!c.IsPermanent && c.ExpireAt.IsZero()) ||
				(c.UserLimit > 0 && !c.ForbidAnonymous) {
				t.Fatalf("%s: accepted out-of-bounds config %+v", data, c)
			}
		}
		b, err := ParseShareCreate(body, 0)
		check(err, b.Config)
		if err == nil {
			if b.Name == "" || len(b.Paths) == 0 || len(b.Paths) > maxShareItems {
				t.Fatalf("%s: accepted %+v", data, b)
			}
			for _, p := range b.Paths {
				if len(p) == 0 {
					t.Fatalf("%s: accepted the root", data)
				}
			}
		}
		u, err := ParseShareUpdate(body)
		check(err, u.Config)
	})
}

// FuzzInodeChain fuzzes 13.10's {Inodes}: a chain of at most 64 positive inodes that prints
// back as the input (one trailing "/" aside), or ErrInvalidParameter.
func FuzzInodeChain(f *testing.F) {
	for _, s := range []string{"", "/", "12", "12/34", "12/34/", "0", "-1", "01", "1//2", "a", "9223372036854775808", strings.Repeat("1/", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		chain, err := ParseInodeChain(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(chain) > maxInodeChain {
			t.Fatalf("%q: %d links", s, len(chain))
		}
		parts := make([]string, len(chain))
		for i, in := range chain {
			if in <= 0 {
				t.Fatalf("%q: inode %d", s, in)
			}
			parts[i] = strconv.FormatInt(in, 10)
		}
		if strings.Join(parts, "/") != strings.TrimSuffix(s, "/") {
			t.Fatalf("%q parsed as %v", s, chain)
		}
	})
}

// FuzzTreeMarker fuzzes ListSharedTree's marker: ErrMarkerNotFound, or a cursor within the
// bounds (entries given, depth, no empty name) whose own marker reads back the same.
func FuzzTreeMarker(f *testing.F) {
	for _, c := range []treeCursor{{}, {Item: 7, Path: []string{"a", "b"}, Descend: true, Given: 1000}, {Path: []string{"x"}, Given: 5}} {
		f.Add(c.marker())
	}
	for _, s := range []string{"", "w", "r0", "w!!", "weyJuIjotMX0", "weyJwIjpbIiJdLCJuIjoxfQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseTreeMarker(s)
		if err != nil {
			if !errors.Is(err, ErrMarkerNotFound) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if c.Given < 0 || c.Given > maxSharedTree || len(c.Path) > maxTreeCursorDepth || slices.Contains(c.Path, "") {
			t.Fatalf("%q: cursor %+v out of bounds", s, c)
		}
		again, err := parseTreeMarker(c.marker())
		if err != nil || again.Item != c.Item || again.Descend != c.Descend || again.Given != c.Given || !slices.Equal(again.Path, c.Path) {
			t.Fatalf("%q: %+v reads back as %+v, %v", s, c, again, err)
		}
	})
}
