package app

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzFavoriteTarget fuzzes the body of 11.1 and 11.2 as the gateway decodes it: whatever the
// JSON, the parser answers a positive inode or a non-empty path of legal names, or an input
// error (a 4xx), never a panic.
func FuzzFavoriteTarget(f *testing.F) {
	for _, s := range []string{`{"path":"a/b"}`, `{"inode":"12"}`, `{"inode":12}`, `{"inode":"12","path":"x"}`, `{}`,
		`{"path":"/"}`, `{"path":"a//b"}`, `{"path":"../x"}`, `{"inode":"0"}`, `{"inode":-1}`, `{"inode":1.5}`, `{"inode":true}`,
		`{"inode":""}`, `{"inode":"9223372036854775808"}`, `{"inode":1e300}`, `{"inode":null,"path":"a"}`, `{"path":"a\u0000b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			Path  string `json:"path"`
			Inode any    `json:"inode"`
		}
		if json.Unmarshal(data, &body) != nil {
			return
		}
		path, inode, err := favoriteTarget(FavoriteTarget{Path: body.Path, Inode: body.Inode}, 0)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		switch {
		case inode < 0, inode == 0 && len(path) == 0, inode > 0 && path != nil:
			t.Fatalf("%s: accepted path %q inode %d", data, path, inode)
		}
		for _, name := range path {
			if name == "" || name == "." || name == ".." {
				t.Fatalf("%s: accepted the name %q", data, name)
			}
		}
	})
}

// FuzzFavoriteListOptions fuzzes the favorites listing's query (11.3): accepted queries stay
// within the limits (1-100 per page, at most 10,000 items by page) in one pagination mode; the
// rest are input errors.
func FuzzFavoriteListOptions(f *testing.F) {
	f.Add("", 0, 0, 0, 0, "", "", "")
	f.Add("m", 20, 2, 50, 3, "favoriteTime", "asc", "true")
	f.Add("", 0, 101, 100, 28, "name", "up", "maybe")
	f.Add("", 0, 0, 0, 31, "", "DESC", "1")
	f.Fuzz(func(t *testing.T, marker string, limit, page, pageSize, present int, orderBy, orderByType, withPath string) {
		q := FavoriteQuery{OrderBy: orderBy, OrderByType: orderByType}
		if present&1 != 0 {
			q.Marker = &marker
		}
		if present&2 != 0 {
			q.Limit = &limit
		}
		if present&4 != 0 {
			q.Page = &page
		}
		if present&8 != 0 {
			q.PageSize = &pageSize
		}
		if present&16 != 0 {
			q.WithPath = &withPath
		}
		opts, pageMode, err := favoriteListOptions(q)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%+v: %v is not an input error", q, err)
			}
			return
		}
		if opts.Limit < 1 || opts.Limit > maxFavoriteLimit || opts.Offset < 0 || opts.Offset+opts.Limit > maxPageWindow {
			t.Fatalf("%+v: accepted %+v", q, opts)
		}
		if pageMode && (opts.Marker != "" || !opts.Count) || !pageMode && (opts.Count || opts.Offset != 0) {
			t.Fatalf("%+v: mixed modes %+v (page mode %v)", q, opts, pageMode)
		}
	})
}

// FuzzRecentListOptions fuzzes the body of 11.4 as the gateway decodes its type: accepted bodies
// have a limit of 1-100 and a known action; the rest are input errors.
func FuzzRecentListOptions(f *testing.F) {
	for _, s := range []string{`{}`, `{"limit":5,"filterActionBy":"preview","type":"document"}`, `{"type":["pdf",".docx"]}`,
		`{"type":3}`, `{"type":[1]}`, `{"limit":0}`, `{"limit":101}`, `{"filterActionBy":"open"}`, `{"type":"all","withPath":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			Marker         *string `json:"marker"`
			Limit          *int    `json:"limit"`
			FilterActionBy string  `json:"filterActionBy"`
			Type           any     `json:"type"`
			WithPath       bool    `json:"withPath"`
		}
		if json.Unmarshal(data, &body) != nil {
			return
		}
		opts, err := recentListOptions(RecentQuery{Marker: body.Marker, Limit: body.Limit, FilterActionBy: body.FilterActionBy, Type: body.Type, WithPath: body.WithPath})
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		if opts.Limit < 1 || opts.Limit > maxFavoriteLimit || (opts.Action != "" && opts.Action != RecentPreview && opts.Action != RecentModify) {
			t.Fatalf("%s: accepted %+v", data, opts)
		}
		if opts.Match != nil {
			_ = opts.Match(Node{Name: "x.PDF", ContentType: "application/pdf"})
		}
	})
}
