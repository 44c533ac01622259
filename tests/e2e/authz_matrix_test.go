package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/services/gateway"
)

// The tenant-isolation matrix (issue 10, docs/security.md): every row of the real dispatcher
// table, and every gRPC method on the public port (authz_matrix_grpc_test.go), against every kind
// of credential, checked against a policy declared per route. A row or method without a policy
// fails the test, so a new route cannot escape it; a policy without a row fails it too.

// routePolicy is what a route asks of its caller.
type routePolicy struct {
	// grants: the caller needs one of these (as authz.Principal.Has answers it); none = any
	// valid principal.
	grants []string
	// space: the caller's token must reach the space named in the path.
	space bool
	// spaceWhenNamed: a token that names spaces must name this one; a token minted without
	// space_id (space management) reaches every space (DeleteSpace, 2.2).
	spaceWhenNamed bool
	// libraryWide: the answer covers every tenant, so a token minted for some spaces is refused
	// (NoPermission) whatever its grants.
	libraryWide bool
	// spaceFirst: the space is checked before the grants (the upload-session calls).
	spaceFirst bool
	// owner: only the user who began the upload may use its confirm key (UploadNotBelongYou).
	owner bool
	// publicRead: anonymous callers may read a public-read library (12.7).
	publicRead bool
	// credentialFree: the route authenticates by what its own path or query carries (the token
	// routes of section 1); the caller's credential changes nothing.
	credentialFree bool
	// mutates: an allowed call consumes the fixtures (they are rebuilt after it).
	mutates bool
	// answer is the SMH code an allowed caller gets when the route cannot succeed on the
	// fixtures ("" = a 2xx or 3xx).
	answer string
	// ---- issue 13 wiring
	// shareOwner: only the fixture share's managers (docs/shares.md, "Authorization"): an
	// admin of every space; else a token reaching the share's space (space A) of an admin, a
	// space_admin or the creator (matrixUser). Anyone else: 403 NoPermission.
	shareOwner bool
	// visitor: a share visitor's route, which takes no library credential.
	visitor visitorKind
	// ---- end issue 13 wiring
}

// visitorKind says what a share visitor's route takes (issue 13 wiring).
type visitorKind int

const (
	_ visitorKind = iota // the zero value: a route that is not a share visitor's
	// visitorOpen: url-detail and verify answer anyone (verify judges the extraction code).
	visitorOpen
	// visitorToken: only a share access token of the share opens it; no token (the library
	// secret alone included) is 400 EmptyAccessToken, any other (library tokens, another
	// share's token, revoked or expired ones) 403 InvalidAccessToken.
	visitorToken
)

var (
	uploadGrants  = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.BeginUpload, authz.BeginUploadForce}
	confirmGrants = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.ConfirmUpload}
	sessionGrants = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.BeginUpload, authz.BeginUploadForce, authz.ConfirmUpload}
	spaceRead     = routePolicy{space: true, publicRead: true}
	libraryRead   = routePolicy{publicRead: true}
	tokenRoute    = routePolicy{credentialFree: true}
)

// rowKey names a dispatcher row: method, pattern, flags and body key.
func rowKey(r gateway.Route) string {
	k := r.Method + " " + r.Pattern
	if len(r.Flags) > 0 {
		k += " ?" + strings.Join(r.Flags, "&")
	}
	if r.BodyKey != "" {
		k += " {" + r.BodyKey + "}"
	}
	return k
}

// routePolicies is the declared policy of every dispatcher row, keyed by rowKey.
func routePolicies() map[string]routePolicy {
	dir := "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}"
	file := "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}"
	key := "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}"
	bin := "/api/v1/recycled/{LibraryId}/{SpaceId}"
	binItem := bin + "/{RecycledItemId}"
	const binOff = "RecycleBinNotEnabled"
	binRead := routePolicy{space: true, publicRead: true, answer: binOff}
	return map[string]routePolicy{
		"GET /api/v1/token":                              tokenRoute,
		"POST /api/v1/token":                             tokenRoute,
		"POST /api/v1/token/{LibraryId}/{AccessToken}":   tokenRoute,
		"DELETE /api/v1/token/{LibraryId}/{AccessToken}": tokenRoute,
		"DELETE /api/v1/token/{LibraryId}":               tokenRoute,

		"POST /api/v1/space/{LibraryId}":                     {grants: []string{authz.Admin, authz.CreateSpace}},
		"GET /api/v1/space/{LibraryId}":                      libraryRead,
		"GET /api/v1/space/{LibraryId}/list":                 libraryRead,
		"GET /api/v1/space/{LibraryId}/count":                libraryRead,
		"DELETE /api/v1/space/{LibraryId}/{SpaceId}":         {grants: []string{authz.Admin, authz.DeleteSpace}, spaceWhenNamed: true, mutates: true},
		"GET /api/v1/space/{LibraryId}/{SpaceId}/extension":  spaceRead,
		"POST /api/v1/space/{LibraryId}/{SpaceId}/extension": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true},
		"GET /api/v1/space/{LibraryId}/{SpaceId}/size":       spaceRead,
		"GET /api/v1/space/{LibraryId}/{SpaceId}/file-count": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true},
		"GET /api/v1/usage/{LibraryId}":                      {grants: []string{authz.Admin}, libraryWide: true},
		"GET /api/v1/usage/{LibraryId}/{SpaceIds}":           {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true},

		"PUT " + dir + " {copyFrom}": {grants: []string{authz.Admin, authz.SpaceAdmin, authz.CopyDirectory}, space: true},
		"PUT " + dir + " {from}":     {grants: []string{authz.Admin, authz.SpaceAdmin, authz.MoveDirectory}, space: true, mutates: true},
		"PUT " + dir:                 {grants: []string{authz.Admin, authz.SpaceAdmin, authz.CreateDirectory}, space: true},
		// Both pagination modes at once are refused after authorization (decision 1).
		"GET " + dir + " ?by-marker&by-page": {space: true, publicRead: true, answer: "ParamInvalid"},
		"GET " + dir + " ?info":              spaceRead,
		"GET " + dir + " ?stats":             {space: true},
		"GET " + dir + " ?by-page":           spaceRead,
		"GET " + dir + " ?by-marker":         spaceRead,
		"GET " + dir:                         spaceRead,
		"HEAD " + dir:                        spaceRead,
		"DELETE " + dir:                      {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteDirectory, authz.DeleteDirectoryPermanent}, space: true, mutates: true},
		"POST " + dir + " ?update":           {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true},

		"PUT " + file + " {copyFrom}":                     {grants: []string{authz.Admin, authz.SpaceAdmin, authz.CopyFile, authz.CopyFileForce}, space: true},
		"PUT " + file + " {from}":                         {grants: []string{authz.Admin, authz.SpaceAdmin, authz.MoveFile, authz.MoveFileForce}, space: true, mutates: true},
		"PUT " + file + " {linkTo}":                       {grants: []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.CreateSymlink, authz.CreateSymlinkForce}, space: true},
		"PUT " + file:                                     {grants: uploadGrants, space: true},
		"POST " + key + " ?confirm":                       {grants: confirmGrants, space: true, spaceFirst: true, owner: true, mutates: true},
		"POST " + key + " ?renew":                         {grants: sessionGrants, space: true, spaceFirst: true, owner: true},
		"POST " + file + " ?multipart":                    {grants: uploadGrants, space: true},
		"POST " + file:                                    {grants: uploadGrants, space: true},
		"GET " + key + " ?upload":                         {grants: sessionGrants, space: true, spaceFirst: true, owner: true},
		"GET " + file + " ?info":                          spaceRead,
		"GET " + file + " ?preview":                       spaceRead,
		"GET " + file:                                     spaceRead,
		"HEAD " + file:                                    spaceRead,
		"DELETE " + key + " ?upload":                      {grants: sessionGrants, space: true, spaceFirst: true, owner: true, mutates: true},
		"DELETE " + file:                                  {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteFile, authz.DeleteFilePermanent}, space: true, mutates: true},
		"GET /api/v1/inode/{LibraryId}/{SpaceId}/{Inode}": spaceRead,
		// A file library has no album covers: an allowed caller gets past authorization to 4.8's refusal.
		"GET /api/v1/album/{LibraryId}/{SpaceId}/cover":                {space: true, publicRead: true, answer: "CoverNotSupportedInFileLibrary"},
		"GET /api/v1/album/{LibraryId}/{SpaceId}/cover/{AlbumName...}": {space: true, publicRead: true, answer: "CoverNotSupportedInFileLibrary"},
		// Task ids that name no task answer per id inside a 200 (7.1); public read does not apply.
		"GET /api/v1/task/{LibraryId}/{SpaceId}/{TaskIdList}": {space: true},
		// 7.2 and 7.4: library tasks, any principal of the library; task 2147483647 names none.
		"GET /api/v1/task/{LibraryId}/{TaskIdList}":    {},
		"GET /api/v1/task-result/{LibraryId}/{TaskId}": {answer: "TaskNotFound"},
		// Section 9: the settings and their purge cover every tenant. The walked library has
		// history on, so an allowed purge is refused after authorization (9.3).
		"GET /api/v1/directory-history/{LibraryId}/library-history":                      {grants: []string{authz.Admin}, libraryWide: true},
		"POST /api/v1/directory-history/{LibraryId}/library-history":                     {grants: []string{authz.Admin}, libraryWide: true},
		"DELETE /api/v1/directory-history/{LibraryId}/library-history":                   {grants: []string{authz.Admin}, libraryWide: true, answer: "BadRequest"},
		"GET /api/v1/directory-history/{LibraryId}/{SpaceId}/history-list/{FilePath...}": {space: true},
		// The walk sends no body: an allowed caller gets past authorization to the body check.
		"POST /api/v1/directory-history/{LibraryId}/{SpaceId}/delete":                     {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteHistory}, space: true, answer: "ParamInvalid"},
		"POST /api/v1/directory-history/{LibraryId}/{SpaceId}/latest-version/{HistoryId}": {grants: []string{authz.Admin, authz.SpaceAdmin, authz.SetHistoryLatest}, space: true, answer: "FileNotFound"},
		// Section 6: quotas, admin only; a token minted for some spaces reaches only their quotas.
		// The fixtures have no quota and the matrix sends no body: an allowed caller gets past
		// authorization to the body's or the store's refusal.
		"POST /api/v1/quota/{LibraryId}":                 {grants: []string{authz.Admin}, answer: "QuotaSpacesInvalid"},
		"GET /api/v1/quota/{LibraryId}/{SpaceOrQuotaId}": {grants: []string{authz.Admin}, space: true, answer: "NoQuota"},
		"PUT /api/v1/quota/{LibraryId}/{SpaceOrQuotaId}": {grants: []string{authz.Admin}, space: true, answer: "QuotaCapacityRequired"},
		"GET /api/v1/space-quota/{LibraryId}/{SpaceId}":  {grants: []string{authz.Admin}, space: true, answer: "NoQuota"},

		// 7.3 takes one id; task 2147483647 names none, so an allowed caller gets past
		// authorization to the unknown id.
		"GET /api/v1/task-result/{LibraryId}/{SpaceId}/{TaskId}": {space: true, answer: "TaskNotFound"},

		// Section 5: the matrix's libraries keep the bin off, so an allowed caller gets past
		// authorization to RecycleBinNotEnabled (the switch is judged after the caller).
		"GET " + bin + " ?by-marker&by-page": binRead,
		"GET " + bin + " ?by-page":           binRead,
		"GET " + bin + " ?by-marker":         binRead,
		"GET " + bin:                         binRead,
		"GET " + binItem + " ?info":          binRead,
		"GET " + binItem + " ?preview":       binRead,
		"GET " + binItem:                     binRead,
		"POST " + binItem + " ?restore":      {grants: []string{authz.Admin, authz.SpaceAdmin, authz.RestoreRecycled}, space: true, answer: binOff},
		"POST " + bin + " ?restore":          {grants: []string{authz.Admin, authz.SpaceAdmin, authz.RestoreRecycled}, space: true, answer: binOff},
		"POST " + bin + " ?delete":           {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteRecycled}, space: true, answer: binOff},
		"POST " + bin + " ?lifecycle":        {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: binOff},
		"DELETE " + binItem:                  {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteRecycled}, space: true, answer: binOff},
		"DELETE " + bin:                      {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteRecycled}, space: true, answer: binOff},

		// Issue 12, batch (section 10, docs/batch.md): any grant one of the operation's item kinds
		// uses lets a caller in; the walk sends no body, so an allowed caller gets past
		// authorization to the body check.
		"POST /api/v1/batch/{LibraryId}/{SpaceId} ?copy": {grants: []string{authz.Admin, authz.SpaceAdmin, authz.CopyFile, authz.CopyFileForce, authz.CopyDirectory}, space: true, answer: "ParamInvalid"},
		"POST /api/v1/batch/{LibraryId}/{SpaceId} ?move": {grants: []string{authz.Admin, authz.SpaceAdmin, authz.MoveFile, authz.MoveFileForce, authz.MoveDirectory}, space: true, answer: "ParamInvalid"},
		"POST /api/v1/batch/{LibraryId}/{SpaceId} ?delete": {grants: []string{authz.Admin, authz.SpaceAdmin, authz.DeleteFile, authz.DeleteFilePermanent,
			authz.DeleteDirectory, authz.DeleteDirectoryPermanent}, space: true, answer: "ParamInvalid"},
		// ---- issue 12 fileops (docs/fileops.md). The walk sends no body and no query: an
		// allowed caller gets past authorization to the missing stats_type, filter or limit.
		"PUT " + file + " ?virtual_file":                         {grants: []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.CreateVirtual}, space: true},
		"PUT " + dir + " ?calibrate":                             {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: "InvalidDirectoryStatsType"},
		"GET /api/v1/space/{LibraryId}/{SpaceId}/contents-view":  {space: true, answer: "ParamInvalid"},
		"POST /api/v1/space/{LibraryId}/{SpaceId}/traffic-limit": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: "ParamInvalid"},
		// --- search (issue 12): section 8 reads the space as a listing does, without public read
		// (12.7); the matrix's libraries keep enableSearch off, so an allowed caller gets past
		// authorization to SearchNotEnabled (decision 20).
		"POST /api/v1/search/{LibraryId}/{SpaceId}/space-contents":  {space: true, answer: "SearchNotEnabled"},
		"POST /api/v1/search/{LibraryId}/{SpaceId}/search-fs":       {space: true, answer: "SearchNotEnabled"},
		"POST /api/v1/search/{LibraryId}/{SpaceId}/search-fs-stats": {space: true, answer: "SearchNotEnabled"},
		"POST /api/v1/search/{LibraryId}/{SpaceId}/search-ai":       {space: true, answer: "SearchNotEnabled"},
		"GET /api/v1/search/{LibraryId}/{SpaceId}/{SearchId}":       {space: true, answer: "SearchNotEnabled"},
		"DELETE /api/v1/search/{LibraryId}/{SpaceId}/{SearchId}":    {space: true, answer: "SearchNotEnabled"},
		// --- end search
		// --- archives (issue 12 item 6), 3.17 and decision 26. Preview: admin or space_admin;
		// uncompress also takes read_only together with upload_file, which no single-grant
		// credential of the walk holds. f.txt is no archive, and the walk sends no body (no
		// targetPath, judged before the bytes), so an allowed caller gets past authorization to
		// those refusals.
		"GET " + file + " ?zip-preview": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: "FileUncompressNotAllowed"},
		"POST " + file + " ?uncompress": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: "ParamInvalid"},
		// --- end archives
		// --- issue 12 change feed (3.18, docs/changefeed.md): the feed is read by any principal
		// of the space (no public read: it shows deleted names and actors); the matrix sends no
		// cursor, so an allowed caller gets past authorization to ParamInvalid. The deletion
		// check is admin or space_admin; the fixture's inode is live: FileNotFound.
		"GET /api/v1/fs-delta/{LibraryId}/{SpaceId}/cursor":             {space: true},
		"GET /api/v1/fs-delta/{LibraryId}/{SpaceId}/delta":              {space: true, answer: "ParamInvalid"},
		"GET /api/v1/file-deletion-check/{LibraryId}/{SpaceId}/{Inode}": {grants: []string{authz.Admin, authz.SpaceAdmin}, space: true, answer: "FileNotFound"},
		// --- end change feed ---
		// --- favorites (issue 12 item 4): section 11, any principal of the space (every matrix
		// credential has a user id). The walk sends no body: an allowed add or cancel gets past
		// authorization to the body check.
		"POST /api/v1/favorite/{LibraryId}/{SpaceId} ?cancel":          {space: true, answer: "ParamInvalid"},
		"POST /api/v1/favorite/{LibraryId}/{SpaceId}":                  {space: true, answer: "ParamInvalid"},
		"GET /api/v1/favorite/{LibraryId}/{SpaceId}/list":              {space: true},
		"POST /api/v1/recent/{LibraryId}/{SpaceId}/recently-used-file": {space: true},
		// --- end favorites ---
		// ---- issue 13 tokens: 13.12 save. The library is the share's, known only once the
		// share is found, so the body is read first: every caller of the walk (no body, no such
		// share) gets ParamInvalid. Its authorization is tested in namespace's sharesave_test.go
		// and e2e/sharesave_test.go.
		"POST /api/v1/share/file/{ShareCode} ?save": {credentialFree: true, answer: "ParamInvalid"},
		// ---- end issue 13 tokens
		// ---- issue 13 wiring: share links (docs/shares.md, "Authorization"). The fixture
		// share (space A, created by matrixUser, extraction code) takes f.txt and d; create
		// shares f.txt anew, update rewrites the same config, setEnabled sets ownerEnabled
		// true, an allowed delete removes a share made for it. List answers every principal
		// (its own shares, in its spaces); search is the library-wide admin's.
		"POST /api/v1/share/{LibraryId}/{SpaceId}":                 {space: true},
		"GET /api/v1/share/{LibraryId}/list":                       {},
		"POST /api/v1/share/{LibraryId}/search":                    {grants: []string{authz.Admin}, libraryWide: true},
		"GET /api/v1/share/{LibraryId}/{ShareId}":                  {shareOwner: true},
		"DELETE /api/v1/share/{LibraryId}/{ShareId}":               {shareOwner: true},
		"POST /api/v1/share/{LibraryId}/{ShareId} ?setEnabled":     {shareOwner: true},
		"POST /api/v1/share/{LibraryId}/{ShareId} ?update":         {shareOwner: true},
		"GET /api/v1/share/url-detail/{ShareToken}":                {visitor: visitorOpen},
		"POST /api/v1/share/verify/{ShareCode}":                    {visitor: visitorOpen},
		"GET /api/v1/share/file/{ShareCode}/{Inodes...} ?list":     {visitor: visitorToken},
		"GET /api/v1/share/file/{ShareCode}/{Inodes...} ?preview":  {visitor: visitorToken},
		"GET /api/v1/share/file/{ShareCode}/{Inodes...} ?download": {visitor: visitorToken},
		"GET /api/v1/share/file/{ShareCode}/{Inodes...} ?zip":      {visitor: visitorToken},
		// ---- end issue 13 wiring
	}
}

// credential is one kind of caller.
type credential struct {
	name string
	// query carries the credential as SMH clients send it (12.2).
	query url.Values
	// p is the principal the credential stands for; nil for no credential or an invalid one.
	p *authz.Principal
	// refused: the credential is refused whatever the route, with this status and SMH code.
	refused       string
	refusedStatus int
	// public: the caller is anonymous and addresses the public-read library.
	public bool
	// shareVisitor: the credential is a share access token of the fixture share (issue 13
	// wiring); its query is re-pointed at the current fixture share after every rebuild.
	shareVisitor bool
}

// denial answers what c gets on a route with policy p in space spaceID, or ok.
func (p routePolicy) denial(c credential, spaceID string) (status int, code string, ok bool) {
	if p.credentialFree || p.visitor == visitorOpen {
		return 0, "", true
	}
	if p.visitor == visitorToken {
		switch {
		case c.shareVisitor:
			return 0, "", true
		case c.query.Get("access_token") == "":
			// The library secret alone is no token at all (share_fetch_test.go).
			return http.StatusBadRequest, "EmptyAccessToken", false
		}
		return http.StatusForbidden, "InvalidAccessToken", false
	}
	if c.refused != "" {
		return c.refusedStatus, c.refused, false
	}
	if c.p == nil {
		if c.public && p.publicRead {
			return 0, "", true
		}
		return http.StatusBadRequest, "EmptyAccessToken", false
	}
	if p.shareOwner {
		// The fixture share lives in space A, whatever space the walk addresses.
		libraryAdmin := c.p.Has(authz.Admin) && (len(c.p.SpaceIDs) == 0 || c.p.AllSpaces)
		reaches := c.p.RequireSpace(spaceA) == nil
		if libraryAdmin || reaches && (c.p.Has(authz.Admin) || c.p.Has(authz.SpaceAdmin) || c.p.UserID == matrixUser) {
			return 0, "", true
		}
		return http.StatusForbidden, "NoPermission", false
	}
	grantOK := len(p.grants) == 0 || c.p.RequireAny(p.grants...) == nil
	if p.libraryWide && len(c.p.SpaceIDs) > 0 && !c.p.AllSpaces {
		grantOK = false
	}
	spaceOK := !p.space || c.p.RequireSpace(spaceID) == nil
	if p.spaceWhenNamed && len(c.p.SpaceIDs) > 0 {
		spaceOK = c.p.RequireSpace(spaceID) == nil
	}
	checks := []struct {
		ok   bool
		code string
	}{{grantOK, "NoPermission"}, {spaceOK, "AccessTokenNotMatchSpace"}}
	if p.spaceFirst {
		checks[0], checks[1] = checks[1], checks[0]
	}
	checks = append(checks, struct {
		ok   bool
		code string
	}{!p.owner || c.p.UserID == matrixUser, "UploadNotBelongYou"})
	for _, ch := range checks {
		if !ch.ok {
			return http.StatusForbidden, ch.code, false
		}
	}
	return 0, "", true
}

// authCodes are the answers of a refused caller: an allowed one must never get them.
var authCodes = []string{"EmptyAccessToken", "InvalidAccessToken", "AccessTokenNotMatchSpace", "NoPermission",
	"WrongLibraryIdOrSecret", "UploadNotBelongYou", "EmptyLibrarySecret", "InvalidAdminKey"}

// matrixUser owns the fixtures' uploads; every credential acts as this user unless it says otherwise.
const matrixUser = "alice"

// spaceFixture is what one space holds for the walk: a directory "d", a file "f.txt" (uploaded
// for real), a symlink "l.txt" to it, and two pending uploads of matrixUser (a simple one whose
// bytes arrived, a multipart one).
type spaceFixture struct {
	lib, space         string
	inode              string
	pending, multipart string
}

// matrix is the world the walk runs in.
type matrix struct {
	s *system
	// multi is the multi-tenant file library the walk addresses (spaces A and B); public is a
	// public-read single-tenant file library, media a single-tenant media library, other
	// another library.
	multi, public, media, other library
	// adminOf holds an admin token (all spaces, user alice) per library id, to build fixtures
	// and take fingerprints.
	adminOf   map[string]string
	a, b, pub *spaceFixture
	seq       int
	// ---- issue 13 wiring: share is the fixture share of space A (remade with space A's
	// fixtures), otherShare one of space B; shareQuery is the share token credential's query,
	// pointed at share's token; allowedPhase: the walk sends allowed calls.
	share, otherShare *shareFixture
	shareQuery        url.Values
	allowedPhase      bool
	// ---- end issue 13 wiring
}

const (
	spaceA = "space-a"
	spaceB = "space-b"
)

func newMatrix(t *testing.T, s *system) *matrix {
	t.Helper()
	m := &matrix{s: s, adminOf: map[string]string{}}
	m.multi = s.createLibrary("matrix-multi", map[string]any{"isMultiSpace": true, "isFileLibrary": true, "enableFileHistory": true})
	m.public = s.createLibrary("matrix-public", map[string]any{"isFileLibrary": true, "isPublicRead": true})
	m.media = s.createLibrary("matrix-media", map[string]any{"isMultiAlbum": true})
	m.other = s.createLibrary("matrix-other", map[string]any{"isMultiSpace": true, "isFileLibrary": true})
	for _, lib := range []library{m.multi, m.public, m.media, m.other} {
		m.adminOf[lib.ID] = s.mustMint(lib, url.Values{"grant": {authz.Admin}, "user_id": {matrixUser}})
	}
	m.a = m.fixture(t, m.multi.ID, spaceA)
	m.b = m.fixture(t, m.multi.ID, spaceB)
	m.pub = m.fixture(t, m.public.ID, "-")
	m.fixture(t, m.other.ID, spaceA)
	m.share, m.otherShare = m.newShare(t, m.a), m.newShare(t, m.b) // issue 13 wiring
	media := fileAPI{s: s, lib: m.media.ID, space: "-", token: m.adminOf[m.media.ID]}
	media.dir().mkdirs(t, media.token, []string{"album"})
	media.upload("album/cover.png", pngBytes(t, 8, 8), nil)
	return m
}

// next answers a name no earlier call used.
func (m *matrix) next(prefix string) string {
	m.seq++
	return fmt.Sprintf("%s-%d", prefix, m.seq)
}

// fixture makes (or remakes after a destructive call) a space's fixtures.
func (m *matrix) fixture(t *testing.T, lib, space string) *spaceFixture {
	t.Helper()
	s, admin := m.s.on(t), m.adminOf[lib]
	if space != "-" {
		r := s.call("POST", "/api/v1/space/"+lib, q(admin, "space_id", space), nil, nil)
		if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
			t.Fatalf("create space %s: %d %s", space, r.Status, r.Body)
		}
	}
	f := fileAPI{s: s, lib: lib, space: space, token: admin}
	if r := f.dir().do("PUT", "d", q(admin), nil); r.Status >= 300 && r.Status != http.StatusConflict {
		t.Fatalf("mkdir d: %d %s", r.Status, r.Body)
	}
	if f.status("HEAD", "f.txt") != http.StatusOK {
		f.upload("f.txt", []byte("the file of "+lib+"/"+space), nil)
	}
	if f.status("HEAD", "l.txt") != http.StatusOK {
		if r := f.do("PUT", "l.txt", nil, map[string]any{"linkTo": "f.txt"}); r.Status >= 300 {
			t.Fatalf("symlink: %d %s", r.Status, r.Body)
		}
	}
	info := f.do("GET", "f.txt", q("", "info", "", "with_inode", "1"), nil)
	if info.Status != http.StatusOK {
		t.Fatalf("info: %d %s", info.Status, info.Body)
	}
	fx := &spaceFixture{lib: lib, space: space, inode: fmt.Sprint(info.JSON(t)["inode"])}
	pending := f.begin("pending.txt", nil, nil)
	if r := f.send(pending, "", []byte("pending bytes")); r.Status != http.StatusOK {
		t.Fatalf("pending bytes: %d %s", r.Status, r.Body)
	}
	fx.pending = pending.ConfirmKey
	r := f.do("POST", "multipart.bin", q("", "multipart", ""), nil)
	if r.Status >= 300 {
		t.Fatalf("begin multipart: %d %s", r.Status, r.Body)
	}
	fx.multipart, _ = r.JSON(t)["confirmKey"].(string)
	if fx.multipart == "" {
		t.Fatalf("multipart without confirm key: %s", r.Body)
	}
	return fx
}

// credentials mints one credential of every kind for space A of the multi-tenant library. The
// expired token is minted first with the shortest period and the clock moved past it.
func (m *matrix) credentials(t *testing.T) []credential {
	t.Helper()
	s := m.s.on(t)
	tok := func(token string) url.Values { return url.Values{"access_token": {token}} }
	mint := func(grants []string, spaces ...string) (url.Values, *authz.Principal) {
		qv := url.Values{"user_id": {matrixUser}}
		if len(grants) > 0 {
			qv.Set("grant", strings.Join(grants, ","))
		}
		if len(spaces) > 0 {
			qv.Set("space_id", strings.Join(spaces, ","))
		}
		set, bad, ok := authz.NewGrantSet(grants...)
		if !ok {
			t.Fatalf("unknown grant %q", bad)
		}
		p := &authz.Principal{LibraryID: m.multi.ID, SpaceIDs: spaces, UserID: matrixUser, Grants: set,
			AllSpaces: len(spaces) == 0 && set.Contains(authz.Admin)}
		return tok(s.mustMint(m.multi, qv)), p
	}

	// The expired credential needs time moved past the shortest period (20 min): the all-in-one's
	// clock can; the split deployment keeps real time, and its matrix goes without that one
	// credential (expiry itself is the in-process runner's, and TestTokenLifecycle's).
	var expired string
	if s.canMoveClock() {
		expired = s.mustMint(m.multi, url.Values{"grant": {authz.Admin}, "space_id": {spaceA}, "user_id": {matrixUser}, "period": {"1200"}})
		s.fakeClock().Advance(1201 * time.Second)
		if r := s.call("GET", "/api/v1/space/"+m.multi.ID+"/"+spaceA+"/size", tok(expired), nil, nil); r.Status != http.StatusForbidden {
			t.Fatalf("the expired token still works: %d %s", r.Status, r.Body)
		}
	}
	revoked := s.mustMint(m.multi, url.Values{"grant": {authz.Admin}, "space_id": {spaceA}, "user_id": {matrixUser}})
	if r := s.call("DELETE", "/api/v1/token/"+m.multi.ID+"/"+revoked, nil, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}

	creds := []credential{
		{name: "none", query: url.Values{}},
		{name: "garbage", query: tok("not-a-token-0123456789abcdef"), refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden},
		{name: "revoked", query: tok(revoked), refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden},
		{name: "other library's admin", query: tok(s.mustMint(m.other, url.Values{"grant": {authz.Admin}, "user_id": {matrixUser}})),
			refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden},
		{name: "other library's secret", query: url.Values{"library_secret": {m.other.Secret}},
			refused: "WrongLibraryIdOrSecret", refusedStatus: http.StatusNotFound},
		{name: "anonymous on a public-read library", query: url.Values{}, public: true},
	}
	add := func(name string, grants []string, spaces ...string) {
		qv, p := mint(grants, spaces...)
		creds = append(creds, credential{name: name, query: qv, p: p})
	}
	add("space B's admin", []string{authz.Admin}, spaceB)
	add("space B's delete_space", []string{authz.DeleteSpace}, spaceB)
	add("read-only", nil, spaceA)
	for _, g := range authz.Grants() {
		add("grant "+g, []string{g}, spaceA)
	}
	add("admin of every space", []string{authz.Admin})
	add("delete_space without space_id", []string{authz.DeleteSpace})
	// Another user of space A with every permission: the confirm keys of alice are not theirs.
	other := s.mustMint(m.multi, url.Values{"grant": {authz.SpaceAdmin}, "space_id": {spaceA}, "user_id": {"mallory"}})
	if expired != "" {
		creds = append(creds, credential{name: "expired", query: tok(expired), refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden})
	}
	creds = append(creds, credential{name: "another user's space_admin", query: tok(other),
		p: &authz.Principal{LibraryID: m.multi.ID, SpaceIDs: []string{spaceA}, UserID: "mallory", Grants: mustGrants(t, authz.SpaceAdmin)}})
	creds = append(creds, credential{name: "library secret", query: url.Values{"library_secret": {m.multi.Secret}, "user_id": {matrixUser}},
		p: &authz.Principal{LibraryID: m.multi.ID, AllSpaces: true, UserID: matrixUser, Grants: mustGrants(t, authz.Admin), ViaLibrarySecret: true}})
	// ---- issue 13 wiring: share access tokens (minted by verify, after the clock moved) are
	// refused by every library route; only their own share's visitor routes take them.
	m.share.token = m.verifyShare(t, m.share)
	m.shareQuery = tok(m.share.token)
	creds = append(creds,
		credential{name: "share access token", query: m.shareQuery, shareVisitor: true, refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden},
		credential{name: "another share's token", query: tok(m.verifyShare(t, m.otherShare)), refused: "InvalidAccessToken", refusedStatus: http.StatusForbidden})
	// ---- end issue 13 wiring
	return creds
}

func mustGrants(t *testing.T, names ...string) authz.GrantSet {
	t.Helper()
	set, bad, ok := authz.NewGrantSet(names...)
	if !ok {
		t.Fatalf("unknown grant %q", bad)
	}
	return set
}

// request is one concrete call of a route.
type request struct {
	method, path string
	query        url.Values
	body         any
}

// target answers the fixture a credential addresses: the public library's for the anonymous
// public reader, space A of the multi-tenant library for everyone else.
func (m *matrix) target(c credential) *spaceFixture {
	if c.public {
		return m.pub
	}
	return m.a
}

// ghostSpace is a space id of the multi-tenant library that no one created.
const ghostSpace = "space-ghost"

// deniedTargets answers where a refused caller is tried: the fixture it addresses and, but for
// the public reader, the same library's space that does not exist, with an unknown confirm key.
func (m *matrix) deniedTargets(c credential) []*spaceFixture {
	if c.public {
		return []*spaceFixture{m.pub}
	}
	unknown := strings.Repeat("0", 32)
	return []*spaceFixture{m.a, {lib: m.multi.ID, space: ghostSpace, inode: m.a.inode, pending: unknown, multipart: unknown}}
}

// values answers what fills a route's parameters and body against fx. Paths that a call creates
// are new each time; paths it reads or consumes are the fixtures'. onDir: the route addresses a
// directory (a copy or move then takes "d" as its source, a file route "f.txt").
func (m *matrix) values(t *testing.T, method, bodyKey string, flags []string, onDir bool, fx *spaceFixture) (params map[string]string, body any) {
	t.Helper()
	params = map[string]string{
		"LibraryId": fx.lib, "SpaceId": fx.space, "SpaceIds": fx.space, "SpaceOrQuotaId": fx.space, "Inode": fx.inode,
		"TaskIdList": "1", "TaskId": "2147483647", "HistoryId": "999999999", "RecycledItemId": "1", "AlbumName": "album", "DirPath": "d", "FilePath": "f.txt", "ConfirmKey": fx.pending,
	}
	params["SearchId"] = "0123456789abcdef0123456789abcdef" // search (issue 12): a well-formed id naming none
	// issue 13 wiring: the fixture share; a visitor's chain names its file for preview and
	// download, its directory for a zip, its root for a listing.
	params["ShareCode"], params["ShareToken"], params["ShareId"], params["Inodes"] = m.share.code, m.share.code, m.share.id, ""
	switch {
	case slices.Contains(flags, "preview"), slices.Contains(flags, "download"):
		params["Inodes"] = m.share.file
	case slices.Contains(flags, "zip"):
		params["Inodes"] = m.share.dir
	}
	if slices.Contains(flags, "renew") {
		params["ConfirmKey"] = fx.multipart // only multipart uploads are renewed (3.5)
	}
	creates := method == "PUT" || method == "POST" && len(flags) == 0 || slices.Contains(flags, "multipart")
	if creates {
		params["DirPath"], params["FilePath"] = m.next("new"), m.next("new")+".txt"
	}
	source := "f.txt"
	if onDir {
		source = "d"
	}
	switch bodyKey {
	case "":
		// The recycle bin's batch bodies (5.3, 5.5) and retention (5.9).
		if slices.Contains(flags, "lifecycle") {
			body = map[string]any{"retentionDays": 5}
		} else if method == "POST" && (slices.Contains(flags, "delete") || slices.Contains(flags, "restore")) {
			body = []any{1}
		}
	case "linkTo", "copyFrom", "from":
		body = map[string]any{bodyKey: source}
	default:
		t.Fatalf("no body for the key %q: teach the matrix about it", bodyKey)
	}
	return params, body
}

// restRequest builds the call of row r for credential c against fx.
func (m *matrix) restRequest(t *testing.T, r gateway.Route, c credential, fx *spaceFixture) request {
	t.Helper()
	params, body := m.values(t, r.Method, r.BodyKey, r.Flags, strings.HasPrefix(r.Pattern, "/api/v1/directory/"), fx)
	if b, ok := m.shareBody(t, r, params); ok { // issue 13 wiring
		body = b
	}
	tokenRow := strings.HasPrefix(r.Pattern, "/api/v1/token")
	if tokenRow {
		params["LibraryId"] = m.multi.ID // the library of the token the path names
	}
	qv := url.Values{}
	for k, v := range c.query {
		qv[k] = slices.Clone(v)
	}
	for _, f := range r.Flags {
		qv.Set(f, "")
	}
	var segs []string
	for _, seg := range strings.Split(strings.TrimPrefix(r.Pattern, "/"), "/") {
		if !strings.HasPrefix(seg, "{") {
			segs = append(segs, seg)
			continue
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		v, ok := params[name]
		if name == "AccessToken" {
			v, ok = m.throwawayToken(t), true
		}
		if !ok {
			t.Fatalf("%s: no value for the parameter {%s}: teach the matrix about it", rowKey(r), name)
		}
		segs = append(segs, url.PathEscape(v))
	}
	switch {
	case r.Method == "DELETE" && r.Pattern == "/api/v1/space/{LibraryId}/{SpaceId}":
		qv.Set("force", "1") // a space with entries is deleted only with force (2.2)
	case tokenRow:
		// The token routes carry their own credential; the walked one rides along unused.
		qv.Set("library_id", m.multi.ID)
		qv.Set("library_secret", m.multi.Secret)
		qv.Set("user_id", "matrix-throwaway")
	}
	return request{method: r.Method, path: "/" + strings.Join(segs, "/"), query: qv, body: body}
}

// throwawayToken mints a token of a user no credential belongs to, for the token routes that
// renew or delete the token their path names.
func (m *matrix) throwawayToken(t *testing.T) string {
	t.Helper()
	return m.s.on(t).mustMint(m.multi, url.Values{"user_id": {"matrix-throwaway"}})
}

// fingerprint answers the state of every library: spaces with their settings, the recursive
// listing of every space with sizes and etags, the confirm keys' states and the stored bytes.
func (m *matrix) fingerprint(t *testing.T) string {
	t.Helper()
	s := m.s.on(t)
	var out []string
	for _, lib := range []library{m.multi, m.public, m.media, m.other} {
		admin := m.adminOf[lib.ID]
		r := s.call("GET", "/api/v1/space/"+lib.ID+"/list", q(admin, "limit", "1000"), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list spaces: %d %s", r.Status, r.Body)
		}
		out = append(out, lib.ID+" spaces "+string(r.Body))
		var listing struct {
			Spaces []struct {
				SpaceID string `json:"spaceId"`
			} `json:"spaces"`
		}
		if err := json.Unmarshal(r.Body, &listing); err != nil {
			t.Fatalf("spaces: %v: %s", err, r.Body)
		}
		for _, sp := range listing.Spaces {
			ext := s.call("GET", "/api/v1/space/"+lib.ID+"/"+sp.SpaceID+"/extension", q(admin), nil, nil)
			out = append(out, lib.ID+"/"+sp.SpaceID+" extension "+string(ext.Body))
			out = append(out, m.tree(t, dirAPI{s: s, lib: lib.ID, space: sp.SpaceID}, admin, "")...)
		}
	}
	for _, fx := range []*spaceFixture{m.a, m.b, m.pub} {
		for _, key := range []string{fx.pending, fx.multipart} {
			r := s.call("GET", "/api/v1/file/"+fx.lib+"/"+fx.space+"/"+key, q(m.adminOf[fx.lib], "upload", ""), nil, nil)
			out = append(out, fmt.Sprintf("upload %s/%s/%s: %d %s", fx.lib, fx.space, key, r.Status, withoutUploadTicket(t, r.Body)))
		}
	}
	// issue 13 wiring: every share of the multi-tenant library, as its admin lists them.
	shares := s.call("GET", "/api/v1/share/"+m.multi.ID+"/list", q(m.adminOf[m.multi.ID], "limit", "100"), nil, nil)
	if shares.Status != http.StatusOK {
		t.Fatalf("list shares: %d %s", shares.Status, shares.Body)
	}
	out = append(out, "shares "+string(shares.Body))
	stored := s.storedObjects("")
	keys := make([]string, 0, len(stored))
	for k, v := range stored {
		keys = append(keys, fmt.Sprintf("stored %s %d", k, len(v)))
	}
	sort.Strings(keys)
	return strings.Join(append(out, keys...), "\n")
}

// withoutUploadTicket answers an upload's status without its part ticket: the ticket is signed
// for each request until now plus its lifetime, so it changes as time passes (on the split
// runner, whose clock is not frozen), not with the upload's state.
func withoutUploadTicket(t *testing.T, body []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body) // an error answer: kept whole
	}
	if info, ok := m["uploadPartInfo"].(map[string]any); ok {
		delete(info, "headers")
		delete(info, "expiration")
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// tree lists a directory and its subdirectories, every entry as the listing answers it.
func (m *matrix) tree(t *testing.T, d dirAPI, token, dir string) []string {
	t.Helper()
	r := d.do("GET", dir, q(token, "limit", "1000"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list %s/%s/%s: %d %s", d.lib, d.space, dir, r.Status, r.Body)
	}
	var listing struct {
		Contents []map[string]any `json:"contents"`
	}
	if err := json.Unmarshal(r.Body, &listing); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range listing.Contents {
		line, _ := json.Marshal(e)
		out = append(out, d.lib+"/"+d.space+"/"+dir+": "+string(line))
		if e["type"] == "dir" {
			name, _ := e["name"].(string)
			out = append(out, m.tree(t, d, token, strings.TrimPrefix(dir+"/"+name, "/"))...)
		}
	}
	return out
}

// expectDenied checks a refusal: the exact status and SMH code (HEAD answers carry no body).
func expectDenied(t *testing.T, what string, r response, method string, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
		return
	}
	if method == http.MethodHead {
		return
	}
	var body struct{ Code, Message, RequestID string }
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Code != code || body.Message == "" || body.RequestID == "" {
		t.Errorf("%s: body %s, want the SMH error %s", what, r.Body, code)
	}
}

// expectAllowed checks that an allowed caller got past authorization: no refusal, no server
// error, and a success unless the policy names the answer.
func expectAllowed(t *testing.T, what string, r response, method string, p routePolicy) {
	t.Helper()
	var body struct{ Code string }
	_ = json.Unmarshal(r.Body, &body)
	switch {
	case r.Status >= 500:
		t.Errorf("%s: server error %d %s", what, r.Status, r.Body)
	case slices.Contains(authCodes, body.Code):
		t.Errorf("%s: refused with %d %s", what, r.Status, r.Body)
	case p.answer == "" && r.Status >= 400:
		t.Errorf("%s: %d %s, want a success", what, r.Status, r.Body)
	case p.answer != "" && method != http.MethodHead && body.Code != p.answer:
		t.Errorf("%s: %d %s, want %s", what, r.Status, r.Body, p.answer)
	}
}

// walkCounts counts the requests sent per credential kind.
type walkCounts map[string]int

func (w walkCounts) log(t *testing.T, what string) {
	t.Helper()
	names := make([]string, 0, len(w))
	total := 0
	for n, c := range w {
		names = append(names, n)
		total += c
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("%s: %-40s %d requests", what, n, w[n])
	}
	t.Logf("%s: %d requests in all", what, total)
}

// TestTenantIsolationMatrix walks every dispatcher row against every credential over HTTPS.
// Refused calls are sent first against the shared fixtures, which must not change; allowed
// calls then run, the fixtures being rebuilt after each that consumes them.
func TestTenantIsolationMatrix(t *testing.T) { onEveryEngineUnthrottled(t, testTenantIsolationMatrix) }

func testTenantIsolationMatrix(t *testing.T, s *system) {
	m := newMatrix(t, s)
	creds := m.credentials(t)
	policies := routePolicies()
	routes := gateway.Routes()

	seen := map[string]bool{}
	for _, r := range routes {
		k := rowKey(r)
		seen[k] = true
		if _, ok := policies[k]; !ok {
			t.Errorf("dispatcher row %q has no policy: declare who may call it in routePolicies", k)
		}
	}
	for k := range policies {
		if !seen[k] {
			t.Errorf("policy %q names no dispatcher row", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	counts := walkCounts{}
	before := m.fingerprint(t)
	var allowed [][2]int
	for ri, r := range routes {
		p := policies[rowKey(r)]
		for ci, c := range creds {
			if _, _, ok := p.denial(c, m.target(c).space); ok {
				allowed = append(allowed, [2]int{ri, ci})
			}
			// A refused caller is refused alike where the space does not exist: the answer
			// does not tell which spaces exist.
			for _, fx := range m.deniedTargets(c) {
				status, code, ok := p.denial(c, fx.space)
				if ok {
					continue
				}
				req := m.restRequest(t, r, c, fx)
				got := s.call(req.method, req.path, req.query, req.body, nil)
				counts[c.name]++
				expectDenied(t, fmt.Sprintf("%s on %s as %q", rowKey(r), fx.space, c.name), got, r.Method, status, code)
			}
		}
	}
	if after := m.fingerprint(t); after != before {
		t.Errorf("refused calls changed the state:\n%s", lineDiff(before, after))
	}

	m.allowedPhase = true
	for _, pair := range allowed {
		r, c := routes[pair[0]], creds[pair[1]]
		p := policies[rowKey(r)]
		req := m.restRequest(t, r, c, m.target(c))
		got := s.call(req.method, req.path, req.query, req.body, nil)
		counts[c.name]++
		expectAllowed(t, fmt.Sprintf("%s as %q", rowKey(r), c.name), got, r.Method, p)
		if p.mutates {
			m.rebuild(t, c)
		}
	}
	// The OpenAPI document (decision 53), a public route outside the table: every credential
	// gets the anonymous caller's document, which names routes and holds no tenant's data.
	doc := s.call("GET", gateway.APIDocumentPath, nil, nil, nil)
	for _, c := range creds {
		got := s.call("GET", gateway.APIDocumentPath, c.query, nil, nil)
		counts[c.name]++
		if got.Status != http.StatusOK || string(got.Body) != string(doc.Body) {
			t.Errorf("GET %s as %q: %d, not the anonymous caller's document", gateway.APIDocumentPath, c.name, got.Status)
		}
	}
	counts.log(t, "REST")
}

// rebuild remakes the fixtures a consuming call may have used up.
func (m *matrix) rebuild(t *testing.T, c credential) {
	t.Helper()
	if c.public {
		m.pub = m.fixture(t, m.public.ID, "-")
		return
	}
	m.a = m.fixture(t, m.multi.ID, spaceA)
	// issue 13 wiring: the call may have taken the shared entries (or the space) away.
	m.share = m.newShare(t, m.a)
	m.share.token = m.verifyShare(t, m.share)
	m.shareQuery.Set("access_token", m.share.token)
}

// lineDiff answers the lines only one of a and b holds.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		set := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			set[l] = true
		}
		return set
	}
	as, bs := in(a), in(b)
	var out []string
	for l := range as {
		if !bs[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range bs {
		if !as[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestConfirmKeysStayWithTheirUpload: a confirm key works only in the library and space it was
// begun in and only for the user who began it, whatever else the caller may do; the upload is
// still confirmable by its owner afterwards.
func TestConfirmKeysStayWithTheirUpload(t *testing.T) {
	s := startSystem(t)
	m := newMatrix(t, s)
	key := m.a.pending
	call := func(lib, space, method, token string, flag string) response {
		return s.call(method, "/api/v1/file/"+lib+"/"+space+"/"+key, q(token, flag, ""), nil, nil)
	}
	otherAdmin := m.adminOf[m.other.ID]
	spaceBAdmin := s.mustMint(m.multi, url.Values{"grant": {authz.Admin}, "space_id": {spaceB}, "user_id": {matrixUser}})
	mallory := s.mustMint(m.multi, url.Values{"grant": {authz.Admin}, "user_id": {"mallory"}})
	for _, op := range []struct{ method, flag string }{{"GET", "upload"}, {"POST", "confirm"}, {"DELETE", "upload"}} {
		what := op.method + " ?" + op.flag
		// Space B's admin, in space B: the key is not one of space B's uploads.
		expectError(t, call(m.multi.ID, spaceB, op.method, spaceBAdmin, op.flag), http.StatusNotFound, "UploadNotFound")
		// Another library's admin, in that library's space of the same name.
		expectError(t, call(m.other.ID, spaceA, op.method, otherAdmin, op.flag), http.StatusNotFound, "UploadNotFound")
		// The library's admin acting as another user: the upload is alice's.
		if r := call(m.multi.ID, spaceA, op.method, mallory, op.flag); r.Status != http.StatusForbidden {
			t.Errorf("%s as another user: %d %s", what, r.Status, r.Body)
		} else {
			expectError(t, r, http.StatusForbidden, "UploadNotBelongYou")
		}
	}
	r := call(m.multi.ID, spaceA, "POST", m.adminOf[m.multi.ID], "confirm")
	if r.Status != http.StatusOK {
		t.Fatalf("the owner's confirm after the refusals: %d %s", r.Status, r.Body)
	}
}
