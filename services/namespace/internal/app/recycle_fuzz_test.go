package app

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRecycledIDs fuzzes the batch body of 5.3 and 5.5 as the gateway decodes it: whatever the
// JSON, the parser answers 1-maxRecycleBatch positive ids or an input error (a 4xx), never a
// panic, a zero or negative id, or an id a JSON number cannot carry exactly.
func FuzzRecycledIDs(f *testing.F) {
	for _, s := range []string{`[1,2,3]`, `[]`, `[0]`, `[-1]`, `[1.5]`, `["7"]`, `["x"]`, `[true]`, `[null]`, `{"ids":[1]}`,
		`1`, `"1"`, `null`, `[9007199254740992]`, `[9007199254740993]`, `[1e300]`, `[[1]]`, `["0012"]`, `["-3"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body any
		if json.Unmarshal(data, &body) != nil {
			return
		}
		ids, err := recycledIDs(body)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		if len(ids) == 0 || len(ids) > maxRecycleBatch {
			t.Fatalf("%s: %d ids accepted", data, len(ids))
		}
		for _, id := range ids {
			if id <= 0 || id > maxJSONID && !isDecimal(body) {
				t.Fatalf("%s: id %d accepted", data, id)
			}
		}
	})
}

// isDecimal reports whether a body names its ids as strings (which may exceed 2^53 exactly).
func isDecimal(body any) bool {
	list, _ := body.([]any)
	for _, v := range list {
		if _, ok := v.(string); ok {
			return true
		}
	}
	return false
}

// FuzzRecycleListOptions fuzzes the bin listing's query (5.1): accepted queries stay within the
// limits (1-100 per page, at most 10,000 items by page) and name a known order; the rest are
// input errors.
func FuzzRecycleListOptions(f *testing.F) {
	f.Add("", "", "", 0, 0, 0, 0, "", "")
	f.Add("page", "", "", 0, 2, 50, 0, "size", "desc")
	f.Add("marker", "m", "", 20, 0, 0, 1, "remainingTime", "ASC")
	f.Add("both", "", "", 0, 0, 0, 0, "name", "")
	f.Add("", "", "", 101, 0, 0, 1, "creationTime", "up")
	f.Add("page", "", "", 0, 101, 100, 0, "", "")
	f.Fuzz(func(t *testing.T, mode, marker, _ string, limit, page, pageSize, present int, orderBy, orderByType string) {
		q := RecycleQuery{Mode: mode, OrderBy: orderBy, OrderByType: orderByType}
		// present's bits say which optional parameters the query carries.
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
		opts, pageMode, err := recycleListOptions(q)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%+v: %v is not an input error", q, err)
			}
			return
		}
		if opts.Limit < 1 || opts.Limit > maxRecycleLimit || opts.Offset < 0 || opts.Offset+opts.Limit > maxPageWindow {
			t.Fatalf("%+v: accepted %+v", q, opts)
		}
		if pageMode && opts.Marker != "" || !pageMode && opts.Offset != 0 {
			t.Fatalf("%+v: modes mixed in %+v", q, opts)
		}
		switch opts.OrderBy {
		case RecycleByRemovalTime, RecycleByName, RecycleByModificationTime, RecycleBySize:
		default:
			t.Fatalf("%+v: order %q", q, opts.OrderBy)
		}
	})
}
