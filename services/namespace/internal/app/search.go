package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opensmh/opensmh/pkg/filetype"
)

// Search (SMH API section 8, decisions 20, 22 and 30): the legacy asynchronous search (8.1),
// search-fs (8.2), search-fs-stats (8.3) and search-ai (8.4). docs/search.md records the
// decisions the spec leaves open; the index itself is the store's (store/search.go).

// Search errors; the transport maps each to one SMH code.
var (
	ErrSearchNotEnabled   = errors.New("search is not enabled for this library")
	ErrSearchIDInvalid    = errors.New("search id invalid")
	ErrFunctionNotEnabled = errors.New("function not enabled")
	ErrSearchTooComplex   = errors.New("search too complex")
)

// KindClass is one family of entries a type filter names (8.1 type, 8.2 fileTypes).
type KindClass string

// Kind classes. KindNone is an unknown value: it matches nothing (decision 30).
const (
	KindDir     KindClass = "dir"
	KindFile    KindClass = "file" // files of every kind: file, image, video (not symlinks)
	KindSymlink KindClass = "symlink"
	KindExt     KindClass = "ext"   // files with one of Exts
	KindMedia   KindClass = "media" // files whose content type starts with Media + "/"
	KindNone    KindClass = "none"
)

// Kind is one type clause.
type Kind struct {
	Class KindClass
	Exts  []string // KindExt: lower-case extensions without the dot
	Media string   // KindMedia: image, video or audio
}

// SearchFilter is what a search keeps, as the store applies it. Every set field narrows the
// result; a slice keeps entries matching any of its values.
type SearchFilter struct {
	// ScopePath is the directory searched (decision 22), nil = the root. A scope that is not a
	// live directory matches nothing.
	ScopePath []string
	// Keywords: an entry's name holds at least one as a substring, case-folded. Hits are ranked
	// by how many they hold (see SearchHit.Position).
	Keywords []string
	// Include keeps entries of any of these kinds (all entries when empty); Exclude drops
	// entries of any of these.
	Include, Exclude []Kind
	// InExts keeps files with one of these extensions; ExcludeExts drops them (lower case, no dot).
	InExts, ExcludeExts []string
	// MinSize, MaxSize bound a file's size (bytes, inclusive); either keeps files only.
	MinSize, MaxSize *int64
	// ModifiedFrom, ModifiedTo bound the modification time (inclusive).
	ModifiedFrom, ModifiedTo *time.Time
	// Labels keeps entries carrying any of them; Categories files of any of them.
	Labels, Categories []string
	// Nothing is set when a filter can match nothing (a legacy tag filter: OpenSMH keeps no
	// tags); the store is not asked.
	Nothing bool
}

// SearchHit is one result: a live entry whose every ancestor is live, under the scope.
type SearchHit struct {
	Node Node
	// Path is the entry's path from the space root, its own name last (docs/search.md).
	Path []string
	// Position orders hits: entries holding more keywords first, then by inode (creation
	// order). It is (keywords - matched) << 40 | inode, so a marker is one number that stays
	// valid while entries are added (docs/search.md "Order and markers").
	Position int64
}

// SavedSearch is a legacy search id's record (8.1): the request, so every replica can answer
// its next pages.
type SavedSearch struct {
	ID        string
	LibraryID string
	SpaceID   string
	Request   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SearchStore is the store's part of search.
type SearchStore interface {
	// Search calls fn with the hits of f in the space in Position order, starting after the
	// position after (0 = from the first), until fn answers false or the hits run out. One
	// read snapshot: a committed rename or delete is reflected at once.
	Search(ctx context.Context, libraryID, spaceID string, f SearchFilter, after int64, fn func(SearchHit) bool) error
	// CreateSearch records a legacy search id.
	CreateSearch(ctx context.Context, s SavedSearch) error
	// SavedSearch answers a legacy search id of the space not expired at now; ErrSearchIDInvalid
	// otherwise.
	SavedSearch(ctx context.Context, libraryID, spaceID, id string, now time.Time) (SavedSearch, error)
	// DeleteSearch forgets a search id; ErrSearchIDInvalid when the space has none such.
	DeleteSearch(ctx context.Context, libraryID, spaceID, id string) error
	// PurgeSearches removes up to limit search ids expired before now (the cleanup job).
	PurgeSearches(ctx context.Context, now time.Time, limit int) (int64, error)
}

// Favorited answers which of inodes the user marked as favorites (section 11), for
// with_favorite_status=1. Wired by the service when favorites exist; nil = no item carries
// isFavorite.
type Favorited func(ctx context.Context, libraryID, spaceID, userID string, inodes []int64) (map[int64]bool, error)

// Search defaults and bounds (8.1, 8.2, 8.3; docs/search.md).
const (
	defaultSearchLimit  = 20
	maxSearchLimit      = 100
	legacyPageSize      = 20
	maxKeywords         = 100
	maxKeywordLength    = 255
	maxExtnames         = 20
	maxExtnameLength    = 10
	maxLabels           = 20
	maxLabelLength      = 32
	maxCategories       = 20
	maxAggregations     = 5
	maxSubAggregations  = 3
	DefaultSearchGroups = 2000
	// searchIDLife is how long a legacy search id answers (docs/search.md).
	searchIDLife = 24 * time.Hour
)

// SearchResult is one page of hits.
type SearchResult struct {
	Hits []SearchHit
	// Favorites holds isFavorite per inode when asked for and answerable; nil otherwise.
	Favorites map[int64]bool
	// NextMarker is the position of the page's last hit when more follow; 0 = no more.
	NextMarker int64
}

// SearchOptions are a search page's query parameters (8.2).
type SearchOptions struct {
	Limit              *int
	Marker             string
	WithFavoriteStatus bool
}

// openSearch authenticates a search call: read access to the space as a directory listing
// needs, but never public read (12.7: search is not a public read), then the library switch
// (decision 20).
func (n *Namespace) openSearch(ctx context.Context, libraryID, spaceID string) (target, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", false)
	if err != nil {
		return target{}, err
	}
	if !t.r.lib.EnableSearch {
		return target{}, ErrSearchNotEnabled
	}
	return t, nil
}

// openFsSearch opens a search-fs or search-fs-stats call and reads its body: filename mode
// only (filecontent needs a content index OpenSMH does not keep).
func (n *Namespace) openFsSearch(ctx context.Context, libraryID, spaceID string, body any) (target, SearchRequest, error) {
	t, err := n.openSearch(ctx, libraryID, spaceID)
	if err != nil {
		return target{}, SearchRequest{}, err
	}
	req, err := ParseSearchRequest(body, false, t.r.lib.MaxNameLength)
	if err != nil {
		return target{}, SearchRequest{}, err
	}
	if req.ContentSearch {
		return target{}, SearchRequest{}, errContentSearch
	}
	return t, req, nil
}

// SearchFs is 8.2: one page of a synchronous search. The body's marker wins over the query's.
func (n *Namespace) SearchFs(ctx context.Context, libraryID, spaceID string, body any, opts SearchOptions) (SearchResult, error) {
	t, req, err := n.openFsSearch(ctx, libraryID, spaceID, body)
	if err != nil {
		return SearchResult{}, err
	}
	limit := defaultSearchLimit
	if opts.Limit != nil {
		if *opts.Limit < 1 || *opts.Limit > maxSearchLimit {
			return SearchResult{}, invalid("limit must be between 1 and %d", maxSearchLimit)
		}
		limit = *opts.Limit
	}
	marker := opts.Marker
	if req.Marker != "" {
		marker = req.Marker
	}
	after, err := parseSearchMarker(marker)
	if err != nil {
		return SearchResult{}, err
	}
	return n.searchPage(ctx, t, req.Filter, after, limit, opts.WithFavoriteStatus)
}

var errContentSearch = &InputError{Err: ErrFunctionNotEnabled,
	Reason: "filecontent search needs a full-text index of file contents, which OpenSMH does not keep; use type filename"}

// parseSearchMarker reads a marker: "" or a non-negative integer (as a string or a number).
func parseSearchMarker(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < 0 {
		return 0, invalid("marker must be a marker this search answered")
	}
	return v, nil
}

func (n *Namespace) searchPage(ctx context.Context, t target, f SearchFilter, after int64, limit int, withFavorites bool) (SearchResult, error) {
	var res SearchResult
	if !f.Nothing {
		err := n.store.Search(ctx, t.r.lib.ID, t.space.ID, f, after, func(h SearchHit) bool {
			res.Hits = append(res.Hits, h)
			return len(res.Hits) <= limit
		})
		if err != nil {
			return SearchResult{}, readable(err)
		}
	}
	if len(res.Hits) > limit {
		res.Hits = res.Hits[:limit]
		res.NextMarker = res.Hits[limit-1].Position
	}
	if withFavorites && n.favorited != nil && len(res.Hits) > 0 {
		inodes := make([]int64, len(res.Hits))
		for i, h := range res.Hits {
			inodes[i] = h.Node.Inode
		}
		favs, err := n.favorited(ctx, t.r.lib.ID, t.space.ID, userOf(t.p), inodes)
		if err != nil {
			return SearchResult{}, err
		}
		if favs == nil {
			favs = map[int64]bool{}
		}
		res.Favorites = favs
	}
	return res, nil
}

// LegacySearch is a legacy search page (8.1) and its id.
type LegacySearch struct {
	ID string
	SearchResult
}

// CreateLegacySearch is 8.1's POST .../space-contents: it records the request under a new search
// id (in SQL, so any replica continues it) and answers the first page at once: the search is
// synchronous underneath, so searchFinished is always true.
func (n *Namespace) CreateLegacySearch(ctx context.Context, libraryID, spaceID string, body any, withFavorites bool) (LegacySearch, error) {
	t, err := n.openSearch(ctx, libraryID, spaceID)
	if err != nil {
		return LegacySearch{}, err
	}
	req, err := ParseSearchRequest(body, true, t.r.lib.MaxNameLength)
	if err != nil {
		return LegacySearch{}, err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return LegacySearch{}, invalid("the body must be a JSON object")
	}
	id, err := newSearchID()
	if err != nil {
		return LegacySearch{}, err
	}
	now := n.clock.Now()
	if err := n.store.CreateSearch(ctx, SavedSearch{ID: id, LibraryID: libraryID, SpaceID: t.space.ID,
		Request: string(raw), CreatedAt: now, ExpiresAt: now.Add(searchIDLife)}); err != nil {
		return LegacySearch{}, readable(err)
	}
	page, err := n.searchPage(ctx, t, req.Filter, 0, legacyPageSize, withFavorites)
	if err != nil {
		return LegacySearch{}, err
	}
	return LegacySearch{ID: id, SearchResult: page}, nil
}

// ContinueLegacySearch is 8.1's GET .../{searchId}?marker=N: the page after marker N (a
// nextMarker the search answered), searched again on the current tree.
func (n *Namespace) ContinueLegacySearch(ctx context.Context, libraryID, spaceID, searchID, marker string, withFavorites bool) (LegacySearch, error) {
	t, err := n.openSearch(ctx, libraryID, spaceID)
	if err != nil {
		return LegacySearch{}, err
	}
	saved, err := n.savedSearch(ctx, t, searchID)
	if err != nil {
		return LegacySearch{}, err
	}
	var body any
	if err := json.Unmarshal([]byte(saved.Request), &body); err != nil {
		return LegacySearch{}, err // written by CreateLegacySearch: never malformed
	}
	req, err := ParseSearchRequest(body, true, t.r.lib.MaxNameLength)
	if err != nil {
		return LegacySearch{}, err
	}
	after, err := parseSearchMarker(marker)
	if err != nil {
		return LegacySearch{}, err
	}
	page, err := n.searchPage(ctx, t, req.Filter, after, legacyPageSize, withFavorites)
	if err != nil {
		return LegacySearch{}, err
	}
	return LegacySearch{ID: saved.ID, SearchResult: page}, nil
}

// DeleteLegacySearch is 8.1's DELETE .../{searchId}: 204; an unknown or expired id answers
// SearchIdInvalid.
func (n *Namespace) DeleteLegacySearch(ctx context.Context, libraryID, spaceID, searchID string) error {
	t, err := n.openSearch(ctx, libraryID, spaceID)
	if err != nil {
		return err
	}
	if !validSearchID(searchID) {
		return ErrSearchIDInvalid
	}
	return n.store.DeleteSearch(ctx, libraryID, t.space.ID, searchID)
}

func (n *Namespace) savedSearch(ctx context.Context, t target, id string) (SavedSearch, error) {
	if !validSearchID(id) {
		return SavedSearch{}, ErrSearchIDInvalid
	}
	return n.store.SavedSearch(ctx, t.r.lib.ID, t.space.ID, id, n.clock.Now())
}

// newSearchID answers 128 random bits in hex: unguessable, so an id is only known to whoever
// started the search (and every call still needs read access to the space).
func newSearchID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func validSearchID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// SearchAI is 8.4: semantic search needs a vector index OpenSMH does not keep. After the caller
// and the library switch are checked it answers FunctionNotEnabled (docs/search.md).
func (n *Namespace) SearchAI(ctx context.Context, libraryID, spaceID string) error {
	if _, err := n.openSearch(ctx, libraryID, spaceID); err != nil {
		return err
	}
	return &InputError{Err: ErrFunctionNotEnabled, Reason: "semantic search (search-ai) is not available in OpenSMH"}
}

// SearchRequest is a parsed search body.
type SearchRequest struct {
	Filter SearchFilter
	// ContentSearch is 8.2's type filecontent.
	ContentSearch bool
	// Marker is the body's marker (8.2), "" when absent.
	Marker string
	// Aggregations of a search-fs-stats body (8.3).
	Aggregations []Aggregation
}

// ParseSearchRequest reads a search body as encoding/json decodes it (nil = no body). legacy
// selects 8.1's fields (keyword, type, extname, tags); otherwise 8.2's (keywords, fileTypes,
// inExtnames). Fields of the other form are accepted too, so a client mixing them is served.
// Malformed values are ParamInvalid; unknown filter values match nothing (decision 30).
func ParseSearchRequest(body any, legacy bool, maxNameLen int) (SearchRequest, error) {
	var req SearchRequest
	if body == nil {
		return req, nil
	}
	m, ok := body.(map[string]any)
	if !ok {
		return req, invalid("the body must be a JSON object")
	}
	p := fieldReader{m: m}
	f := &req.Filter

	if !legacy {
		switch v := m["type"].(type) {
		case nil:
		case string:
			switch v {
			case "", "filename":
			case "filecontent":
				req.ContentSearch = true
			default:
				p.fail("type must be filename or filecontent")
			}
		default:
			p.fail("type must be filename or filecontent")
		}
	}
	f.Keywords = append(f.Keywords, strings.Fields(p.str("keyword"))...)
	f.Keywords = append(f.Keywords, p.strList("keywords")...)
	f.Keywords = cleanKeywords(f.Keywords)
	if len(f.Keywords) > maxKeywords {
		p.fail("at most %d keywords", maxKeywords)
	}
	for _, kw := range f.Keywords {
		if utf8.RuneCountInString(kw) > maxKeywordLength {
			p.fail("a keyword is at most %d characters", maxKeywordLength)
		}
	}

	if scope := p.str("scope"); scope != "" {
		path, err := SplitPath(scope, maxNameLen)
		if err != nil {
			p.fail("scope must be a directory path")
		}
		f.ScopePath = path
	}

	if legacy {
		f.Include, f.Exclude = parseKinds(p.strList("type"), legacyKinds)
	}
	inc, exc := parseKinds(p.strList("fileTypes"), fsKinds)
	f.Include, f.Exclude = append(f.Include, inc...), append(f.Exclude, exc...)

	f.InExts = p.extnames("inExtnames")
	f.InExts = append(f.InExts, p.extnames("extname")...)
	f.ExcludeExts = p.extnames("excludeExtnames")

	f.MinSize, f.MaxSize = p.size("minFileSize"), p.size("maxFileSize")
	if f.MinSize != nil && f.MaxSize != nil && *f.MinSize > *f.MaxSize {
		p.fail("minFileSize is above maxFileSize")
	}
	f.ModifiedFrom, f.ModifiedTo = p.time("modificationTimeStart"), p.time("modificationTimeEnd")
	if f.ModifiedFrom != nil && f.ModifiedTo != nil && f.ModifiedFrom.After(*f.ModifiedTo) {
		p.fail("modificationTimeStart is after modificationTimeEnd")
	}

	f.Labels = p.strList("labels")
	if len(f.Labels) > maxLabels {
		p.fail("at most %d labels", maxLabels)
	}
	for _, l := range f.Labels {
		if utf8.RuneCountInString(l) > maxLabelLength {
			p.fail("a label is at most %d characters", maxLabelLength)
		}
	}
	f.Categories = p.strList("categories")
	if len(f.Categories) > maxCategories {
		p.fail("at most %d categories", maxCategories)
	}
	// Legacy tags ({"id", "value"}): OpenSMH keeps no tags, so a tag filter matches nothing.
	if tags, present := m["tags"]; present && tags != nil {
		list, ok := tags.([]any)
		if !ok {
			p.fail("tags must be a list")
		}
		for _, tag := range list {
			if _, ok := tag.(map[string]any); !ok {
				p.fail("tags must be a list of {id, value} objects")
			}
		}
		if len(list) > 0 {
			f.Nothing = true
		}
	}
	// Accepted and ignored (8.2: orderBy is ignored; the legacy order is the ranking too).
	p.str("orderBy")
	p.str("orderByType")
	p.str("searchMode")

	switch v := m["marker"].(type) {
	case nil:
	case string:
		req.Marker = v
	case float64:
		if v < 0 || v != math.Trunc(v) || v > 1<<62 {
			p.fail("marker must be a marker this search answered")
		}
		req.Marker = strconv.FormatInt(int64(v), 10)
	default:
		p.fail("marker must be a string or a number")
	}

	if aggs, present := m["aggregations"]; present {
		req.Aggregations = p.aggregations(aggs)
	}
	if p.err != nil {
		return SearchRequest{}, p.err
	}
	return req, nil
}

// cleanKeywords trims keywords, drops empty ones and repeats (a repeat would count twice in
// the ranking).
func cleanKeywords(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, kw := range in {
		kw = strings.TrimSpace(kw)
		key := strings.ToLower(kw)
		if kw == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, kw)
	}
	return out
}

// Type values (8.1 type, 8.2 fileTypes). The legacy families by extension and by MIME prefix
// follow 8.1's type mapping; word/excel/powerpoint/text are the 2026 names of the same families.
var (
	fsKinds = map[string]Kind{
		"dir": {Class: KindDir}, "file": {Class: KindFile}, "symlink": {Class: KindSymlink},
	}
	legacyKinds = map[string]Kind{
		"dir": {Class: KindDir}, "file": {Class: KindFile}, "symlink": {Class: KindSymlink},
		"doc": {Class: KindExt, Exts: []string{"doc", "docx"}}, "word": {Class: KindExt, Exts: []string{"doc", "docx"}},
		"xls": {Class: KindExt, Exts: []string{"xls", "xlsx"}}, "excel": {Class: KindExt, Exts: []string{"xls", "xlsx"}},
		"ppt": {Class: KindExt, Exts: []string{"ppt", "pptx"}}, "powerpoint": {Class: KindExt, Exts: []string{"ppt", "pptx"}},
		"pdf": {Class: KindExt, Exts: []string{"pdf"}},
		"txt": {Class: KindExt, Exts: []string{"txt"}}, "text": {Class: KindExt, Exts: []string{"txt"}},
		"image": {Class: KindMedia, Media: "image"}, "video": {Class: KindMedia, Media: "video"},
		"audio": {Class: KindMedia, Media: "audio"},
	}
)

// parseKinds reads type values: "all" keeps everything, "!x" excludes x ("!all" everything);
// an unknown value matches nothing (decision 30), and an unknown negation excludes nothing.
func parseKinds(values []string, known map[string]Kind) (include, exclude []Kind) {
	all := false
	for _, v := range values {
		neg := strings.HasPrefix(v, "!")
		name := strings.ToLower(strings.TrimPrefix(v, "!"))
		switch {
		case name == "all" && neg:
			exclude = append(exclude, Kind{Class: KindDir}, Kind{Class: KindFile}, Kind{Class: KindSymlink})
		case name == "all" || (name == "" && !neg):
			all = true
		case neg:
			if k, ok := known[name]; ok {
				exclude = append(exclude, k)
			}
		default:
			k, ok := known[name]
			if !ok {
				k = Kind{Class: KindNone}
			}
			include = append(include, k)
		}
	}
	if all {
		include = nil
	}
	return include, exclude
}

// fieldReader reads a body's fields, keeping the first error.
type fieldReader struct {
	m   map[string]any
	err error
}

func (p *fieldReader) fail(format string, args ...any) {
	if p.err == nil {
		p.err = invalid(format, args...)
	}
}

func (p *fieldReader) str(key string) string {
	switch v := p.m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		p.fail("%s must be a string", key)
		return ""
	}
}

// strList reads a list of strings; a single string is a list of one.
func (p *fieldReader) strList(key string) []string {
	switch v := p.m[key].(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				p.fail("%s must be a list of strings", key)
				return nil
			}
			out = append(out, s)
		}
		return out
	default:
		p.fail("%s must be a list of strings", key)
		return nil
	}
}

// extnames reads an extension list (8.2: at most 20, each at most 10 characters): lower case,
// a leading dot optional.
func (p *fieldReader) extnames(key string) []string {
	list := p.strList(key)
	if len(list) > maxExtnames {
		p.fail("%s holds at most %d extensions", key, maxExtnames)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), "."))
		if e == "" || utf8.RuneCountInString(e) > maxExtnameLength {
			p.fail("%s: an extension has 1 to %d characters", key, maxExtnameLength)
			continue
		}
		out = append(out, e)
	}
	return out
}

// size reads a byte count: a non-negative integer as a number or a string (12.4).
func (p *fieldReader) size(key string) *int64 {
	var v int64
	switch raw := p.m[key].(type) {
	case nil:
		return nil
	case float64:
		if raw < 0 || raw != math.Trunc(raw) || raw > 1<<62 {
			p.fail("%s must be a non-negative integer", key)
			return nil
		}
		v = int64(raw)
	case string:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			p.fail("%s must be a non-negative integer", key)
			return nil
		}
		v = n
	default:
		p.fail("%s must be a non-negative integer", key)
		return nil
	}
	return &v
}

// time reads an RFC 3339 time (8.2), with or without fractional seconds.
func (p *fieldReader) time(key string) *time.Time {
	switch raw := p.m[key].(type) {
	case nil:
		return nil
	case string:
		if raw == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			p.fail("%s must be an RFC 3339 time", key)
			return nil
		}
		return &t
	default:
		p.fail("%s must be an RFC 3339 time", key)
		return nil
	}
}

// Aggregation is one item of search-fs-stats' aggregations (8.3).
type Aggregation struct {
	Field     string
	Operation string
	Sub       []Aggregation
}

// aggregationOps are the operations each field allows (8.3's table).
var aggregationOps = map[string][]string{
	"extName":     {"group", "count", "distinct"},
	"category":    {"group", "count", "distinct"},
	"contentType": {"group", "count", "distinct"},
	"userId":      {"group", "count", "distinct"},
	"fileType":    {"group", "count", "distinct"},
	"name":        {"count", "distinct"},
	"size":        {"count", "distinct", "sum", "min", "max", "average"},
}

func (p *fieldReader) aggregations(raw any) []Aggregation {
	list, ok := raw.([]any)
	if !ok {
		p.fail("aggregations must be a list")
		return nil
	}
	out, err := readAggregations(list, 0)
	if err != nil && p.err == nil {
		p.err = err
	}
	return out
}

func readAggregations(list []any, depth int) ([]Aggregation, error) {
	limit := maxAggregations
	if depth > 0 {
		limit = maxSubAggregations
	}
	if len(list) > limit {
		return nil, &InputError{Err: ErrSearchTooComplex, Reason: "at most 5 aggregations, each with at most 3 subAggregations"}
	}
	out := make([]Aggregation, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, invalid("an aggregation is an object {field, operation}")
		}
		field, _ := m["field"].(string)
		op, _ := m["operation"].(string)
		if !slices.Contains(aggregationOps[field], op) {
			return nil, invalid("operation %q is not allowed on field %q", op, field)
		}
		if depth > 0 && op == "group" {
			return nil, invalid("a subAggregation may not group")
		}
		a := Aggregation{Field: field, Operation: op}
		if sub, present := m["subAggregations"]; present && sub != nil {
			subList, ok := sub.([]any)
			if !ok {
				return nil, invalid("subAggregations must be a list")
			}
			if len(subList) > 0 && (op != "group" || depth > 0) {
				return nil, invalid("subAggregations belong to a group aggregation")
			}
			var err error
			if a.Sub, err = readAggregations(subList, depth+1); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// AggregationResult is one answer of search-fs-stats, in request order.
type AggregationResult struct {
	Field, Operation string
	// Value is a non-group operation's number.
	Value float64
	// Groups are a group operation's buckets: by count, most first, then by value.
	Groups []AggregationGroup
}

// AggregationGroup is one bucket.
type AggregationGroup struct {
	Value string
	Count int64
	Sub   []AggregationResult
}

// SearchStats answers search-fs-stats.
type SearchStats struct {
	Results []AggregationResult
	// IsTruncated is set when a group list was cut at the group cap.
	IsTruncated bool
}

// SearchFsStats is 8.3: aggregations over every hit of the filters (no list). Every hit is
// read once, in one snapshot; docs/search.md says what each operation counts.
func (n *Namespace) SearchFsStats(ctx context.Context, libraryID, spaceID string, body any) (SearchStats, error) {
	t, req, err := n.openFsSearch(ctx, libraryID, spaceID, body)
	if err != nil {
		return SearchStats{}, err
	}
	if len(req.Aggregations) == 0 {
		return SearchStats{}, invalid("aggregations needs 1 to %d items", maxAggregations)
	}
	acc := newStatsAccumulator(req.Aggregations)
	if !req.Filter.Nothing {
		err := n.store.Search(ctx, t.r.lib.ID, t.space.ID, req.Filter, 0, func(h SearchHit) bool {
			acc.add(h.Node)
			return true
		})
		if err != nil {
			return SearchStats{}, readable(err)
		}
	}
	return acc.results(n.searchGroups), nil
}

// statValue answers an entry's value of a field, and whether it has one: directories have no
// extName, contentType, fileType, category or size; empty strings are no value.
func statValue(node Node, field string) (string, bool) {
	var v string
	switch field {
	case "name":
		v = node.Name
	case "userId":
		v = node.UserID
	case "extName":
		if node.IsDir() {
			return "", false
		}
		if i := strings.LastIndexByte(node.Name, '.'); i > 0 {
			v = strings.ToLower(node.Name[i:])
		}
	case "category":
		v = node.Category
	case "contentType":
		if !node.IsDir() {
			v = node.ContentType
		}
	case "fileType":
		if !node.IsDir() {
			v = filetype.Describe(node.Name, node.ContentType).FileType
		}
	case "size":
		if node.IsDir() {
			return "", false
		}
		return strconv.FormatInt(node.Size, 10), true
	}
	return v, v != ""
}

// metric accumulates one non-group operation.
type metric struct {
	field, op     string
	count         int64
	sum, min, max float64
	distinct      map[string]struct{}
}

func newMetric(a Aggregation) *metric {
	m := &metric{field: a.Field, op: a.Operation}
	if a.Operation == "distinct" {
		m.distinct = map[string]struct{}{}
	}
	return m
}

func (m *metric) add(node Node) {
	v, ok := statValue(node, m.field)
	if !ok {
		return
	}
	if m.distinct != nil {
		m.distinct[v] = struct{}{}
	}
	if m.field == "size" {
		s := float64(node.Size)
		if m.count == 0 || s < m.min {
			m.min = s
		}
		if m.count == 0 || s > m.max {
			m.max = s
		}
		m.sum += s
	}
	m.count++
}

func (m *metric) result() AggregationResult {
	r := AggregationResult{Field: m.field, Operation: m.op}
	switch m.op {
	case "count":
		r.Value = float64(m.count)
	case "distinct":
		r.Value = float64(len(m.distinct))
	case "sum":
		r.Value = m.sum
	case "min":
		r.Value = m.min
	case "max":
		r.Value = m.max
	case "average":
		if m.count > 0 {
			r.Value = m.sum / float64(m.count)
		}
	}
	return r
}

// bucketSet accumulates one group operation: per value, its count and its sub-aggregations.
type bucketSet struct {
	agg     Aggregation
	buckets map[string]*bucket
}

type bucket struct {
	count int64
	subs  []*metric
}

type statsAccumulator struct {
	items []any // *metric or *bucketSet, in request order
}

func newStatsAccumulator(aggs []Aggregation) *statsAccumulator {
	acc := &statsAccumulator{}
	for _, a := range aggs {
		if a.Operation == "group" {
			acc.items = append(acc.items, &bucketSet{agg: a, buckets: map[string]*bucket{}})
		} else {
			acc.items = append(acc.items, newMetric(a))
		}
	}
	return acc
}

func (acc *statsAccumulator) add(node Node) {
	for _, it := range acc.items {
		switch it := it.(type) {
		case *metric:
			it.add(node)
		case *bucketSet:
			v, ok := statValue(node, it.agg.Field)
			if !ok {
				continue
			}
			b := it.buckets[v]
			if b == nil {
				b = &bucket{}
				for _, s := range it.agg.Sub {
					b.subs = append(b.subs, newMetric(s))
				}
				it.buckets[v] = b
			}
			b.count++
			for _, s := range b.subs {
				s.add(node)
			}
		}
	}
}

func (acc *statsAccumulator) results(groupCap int) SearchStats {
	var out SearchStats
	for _, it := range acc.items {
		switch it := it.(type) {
		case *metric:
			out.Results = append(out.Results, it.result())
		case *bucketSet:
			r := AggregationResult{Field: it.agg.Field, Operation: it.agg.Operation, Groups: []AggregationGroup{}}
			for v, b := range it.buckets {
				g := AggregationGroup{Value: v, Count: b.count}
				for _, s := range b.subs {
					g.Sub = append(g.Sub, s.result())
				}
				r.Groups = append(r.Groups, g)
			}
			slices.SortFunc(r.Groups, func(a, b AggregationGroup) int {
				if a.Count != b.Count {
					if a.Count > b.Count {
						return -1
					}
					return 1
				}
				return strings.Compare(a.Value, b.Value)
			})
			if len(r.Groups) > groupCap {
				r.Groups = r.Groups[:groupCap]
				out.IsTruncated = true
			}
			out.Results = append(out.Results, r)
		}
	}
	return out
}
