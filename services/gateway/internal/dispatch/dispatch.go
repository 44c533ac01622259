// Package dispatch maps public SMH requests onto the internal grpc-gateway routes of single RPCs.
package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc/metadata"
)

// Route is one row of the dispatcher table.
type Route struct {
	// Method is the HTTP method.
	Method string
	// Pattern is the public path: literal segments and {Param} segments. A final {Param...}
	// takes the rest of the path (a file or directory path, section 12.3).
	Pattern string
	// Flags are query keys that must be present, with or without a value (SMH API pitfall 2).
	Flags []string
	// BodyKey, when set, must be a top-level key of the JSON body (PUT on a file: copyFrom, from,
	// linkTo). The row without one that follows them takes the other bodies (plain upload).
	BodyKey string
	// Target is the internal route with the same {Param} names.
	Target string
	// RPC is the gRPC full name ("/package.Service/Method", the generated *_FullMethodName) of
	// the method Target reaches; TestEveryRowReachesItsRPC holds the two together. The early
	// credential check reads it to leave token management alone.
	RPC string
}

// Match is the outcome of dispatching one request.
type Match struct {
	Route  *Route
	Params map[string]string
	// Path is the internal path with parameters escaped.
	Path string
}

// Table is a compiled dispatcher table.
type Table struct {
	routes []compiled
}

type compiled struct {
	route    *Route
	segments []string
	rest     bool // last segment takes the rest of the path
}

// Compile prepares routes for matching.
func Compile(routes []Route) *Table {
	t := &Table{}
	for i := range routes {
		r := &routes[i]
		segs := strings.Split(strings.TrimPrefix(r.Pattern, "/"), "/")
		c := compiled{route: r, segments: segs}
		if last := segs[len(segs)-1]; strings.HasSuffix(last, "...}") {
			c.rest = true
			segs[len(segs)-1] = strings.TrimSuffix(last, "...}") + "}"
		}
		t.routes = append(t.routes, c)
	}
	return t
}

// bodyPeekLimit bounds how much of a body is read to look at its keys; bodies that select an
// operation by key are small JSON objects.
const bodyPeekLimit = 64 << 10

// Match finds the row for r. It may read (and then restore) a small JSON body. ok is false when
// no row matches.
func (t *Table) Match(r *http.Request) (m Match, ok bool) {
	return t.match(r, true)
}

// Address finds the first row that takes r's method, path and flags without reading the body.
// The rows a body key chooses between share their pattern and parameters, so the answer names
// the route and its library before a byte of the body is read (span names, the early refusal of
// requests without credentials); only Match says which RPC the body picks.
func (t *Table) Address(r *http.Request) (m Match, ok bool) {
	return t.match(r, false)
}

func (t *Table) match(r *http.Request, byBody bool) (m Match, ok bool) {
	segs := rawSegments(r.URL)
	q := r.URL.Query()
	var bodyKeys map[string]bool
	for _, c := range t.routes {
		if c.route.Method != r.Method {
			continue
		}
		params, ok := c.match(segs)
		if !ok || !hasFlags(q, c.route.Flags) {
			continue
		}
		if byBody && c.route.BodyKey != "" {
			if bodyKeys == nil {
				bodyKeys = peekBodyKeys(r)
			}
			if !bodyKeys[c.route.BodyKey] {
				continue
			}
		}
		return Match{Route: c.route, Params: params, Path: c.target(params)}, true
	}
	return Match{}, false
}

func (c compiled) match(segs []string) (map[string]string, bool) {
	if c.rest {
		if len(segs) < len(c.segments)-1 {
			return nil, false
		}
	} else if len(segs) != len(c.segments) {
		// One trailing "/" is tolerated where the route ends with a fixed segment.
		if len(segs) != len(c.segments)+1 || segs[len(segs)-1] != "" {
			return nil, false
		}
		segs = segs[:len(segs)-1]
	}
	// Literal segments first: most rows of the table fail there, and a failing row should cost
	// no allocation (every API request tries the rows in order, twice: Address and Match).
	for i, p := range c.segments {
		if c.rest && i == len(c.segments)-1 {
			break
		}
		if !strings.HasPrefix(p, "{") && segs[i] != p {
			return nil, false
		}
	}
	params := map[string]string{}
	for i, p := range c.segments {
		if c.rest && i == len(c.segments)-1 {
			// The rest of the path: percent-decoded once, so "%2F" and "/" are the same (12.3).
			rest, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, false
			}
			params[p[1:len(p)-1]] = rest
			return params, true
		}
		if strings.HasPrefix(p, "{") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if segs[i] != p {
			return nil, false
		}
	}
	return params, true
}

func (c compiled) target(params map[string]string) string {
	out := c.route.Target
	for k, v := range params {
		out = strings.Replace(out, "{"+k+"}", url.PathEscape(v), 1)
	}
	return out
}

// rawSegments splits the escaped path, so that an encoded "/" inside a segment stays in it. A
// trailing "/" is kept (as a last empty segment): in a rest parameter it must mean what "%2F"
// means (12.3), so "a/" names no file whichever way the slash was sent.
func rawSegments(u *url.URL) []string {
	return strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
}

func hasFlags(q url.Values, flags []string) bool {
	for _, f := range flags {
		if _, ok := q[f]; !ok {
			return false
		}
	}
	return true
}

// peekBodyKeys reads the top-level keys of a JSON object body and puts the body back.
func peekBodyKeys(r *http.Request) map[string]bool {
	keys := map[string]bool{}
	if r.Body == nil || r.Body == http.NoBody {
		return keys
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, bodyPeekLimit))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return keys
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(head, &obj) == nil {
		for k := range obj {
			keys[k] = true
		}
	}
	return keys
}

// Credential query parameters. access_token and library_secret move into request metadata and
// leave the URL, so no later layer can log or trace them; user_id is copied, because it is also a
// field of the token RPCs.
// share_access_token (13.12, decision 14) travels the same way.
var movedToMetadata = map[string]string{"access_token": "X-Smh-Access-Token", "library_secret": "X-Smh-Library-Secret",
	"share_access_token": "X-Smh-Share-Access-Token"}

const actingUserHeader = "X-Smh-User-Id"

// Credentials answers the credentials of a business request's query as the services receive
// them: the metadata the headers Rewrite sets become (12.2: from the query only). The gateway's
// early refusal authenticates with it before the body is read.
func Credentials(q url.Values) metadata.MD {
	md := metadata.MD{}
	for param, h := range movedToMetadata {
		if v, ok := q[param]; ok {
			md.Set(h, v[0]) // metadata keys are the lower-cased header names (pkg/reqmeta)
		}
	}
	return md
}

// Rewrite answers the request for the internal route of m. Credential headers a client sent
// itself are dropped: SMH takes credentials from the query only (12.2).
func Rewrite(r *http.Request, m Match) *http.Request {
	out := r.Clone(r.Context())
	for _, h := range movedToMetadata {
		out.Header.Del(h)
	}
	out.Header.Del(actingUserHeader)
	q := r.URL.Query()
	for param, h := range movedToMetadata {
		if v, ok := q[param]; ok {
			out.Header.Set(h, v[0])
			q.Del(param)
		}
	}
	if v, ok := q["user_id"]; ok {
		out.Header.Set(actingUserHeader, v[0])
	}
	u := *r.URL
	u.Path, u.RawPath = "", ""
	if p, err := url.PathUnescape(m.Path); err == nil {
		u.Path, u.RawPath = p, m.Path
	}
	u.RawQuery = q.Encode()
	out.URL = &u
	out.RequestURI = u.RequestURI()
	return out
}

type matchKey struct{}

// WithMatch remembers a request's match, so that the layers after the one that matched (span
// naming, the dispatch itself) do not match again.
func WithMatch(r *http.Request, m Match, ok bool) *http.Request {
	if !ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), matchKey{}, m))
}

// addressKey keeps a request's Address, with whether it found a row.
type addressKey struct{}

type addressed struct {
	m  Match
	ok bool
}

// AddressOnce answers Address(r), computed on the first call for a request and remembered on
// the request it returns: the route's name, the early credential check and the dispatch all
// need it, and a match scans the table.
func (t *Table) AddressOnce(r *http.Request) (*http.Request, Match, bool) {
	if a, found := r.Context().Value(addressKey{}).(addressed); found {
		return r, a.m, a.ok
	}
	m, ok := t.Address(r)
	return r.WithContext(context.WithValue(r.Context(), addressKey{}, addressed{m, ok})), m, ok
}

// MatchOnce answers Match(r), from the remembered Address when the body cannot change it: the
// rows before Address's do not take r's method, path and flags, so Match reaches the same row,
// and a row that looks at no body key is Match's answer too.
func (t *Table) MatchOnce(r *http.Request) (Match, bool) {
	if a, found := r.Context().Value(addressKey{}).(addressed); found && (!a.ok || a.m.Route.BodyKey == "") {
		return a.m, a.ok
	}
	return t.Match(r)
}

// MatchOf answers the match WithMatch remembered.
func MatchOf(r *http.Request) (Match, bool) {
	m, ok := r.Context().Value(matchKey{}).(Match)
	return m, ok
}
