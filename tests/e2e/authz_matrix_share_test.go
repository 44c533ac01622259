package e2e

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/services/gateway"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/smh/server"
)

// The share links' part of the tenant-isolation matrix (issue 13, docs/shares.md
// "Authorization"): a real share per walked space, its code, id and inodes filling the share
// rows, and share access tokens minted by verify as credentials.

// shareFixture is one share of a space's fixtures: f.txt and d, an extraction code, every
// permission on.
type shareFixture struct {
	id, code string
	// file and dir are the inodes of f.txt and d, each a one-inode chain from the share root.
	file, dir string
	// token is a share access token of this share (verify).
	token string
}

// matrixShareCode is the fixture shares' extraction code.
const matrixShareCode = "m4trix"

// matrixShareConfig is the fixture shares' config (decision 28: omitted fields take defaults).
func matrixShareConfig() map[string]any {
	return map[string]any{"isPermanent": true, "extractionCode": matrixShareCode,
		"canPreview": true, "canDownload": true, "canSaveToNetdisk": true}
}

// newShare shares fx's f.txt and d as the library's admin (user matrixUser, so the creator).
func (m *matrix) newShare(t *testing.T, fx *spaceFixture) *shareFixture {
	t.Helper()
	s := m.s.on(t)
	r := s.call("POST", "/api/v1/share/"+fx.lib+"/"+fx.space, q(m.adminOf[fx.lib]),
		map[string]any{"name": m.next("matrix-share"), "filePath": []string{"f.txt", "d"}, "config": matrixShareConfig()}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("create the fixture share: %d %s", r.Status, r.Body)
	}
	sh := &shareFixture{}
	sh.id, _ = r.JSON(t)["id"].(string)
	sh.code, _ = r.JSON(t)["code"].(string)
	if sh.id == "" || sh.code == "" {
		t.Fatalf("share without id or code: %s", r.Body)
	}
	tok := m.verifyShare(t, sh)
	list := s.call("GET", "/api/v1/share/file/"+sh.code+"/", q(tok, "list", ""), nil, nil)
	if list.Status != http.StatusOK {
		t.Fatalf("list the fixture share: %d %s", list.Status, list.Body)
	}
	for _, it := range contents(t, list) {
		switch it["name"] {
		case "f.txt":
			sh.file, _ = it["inode"].(string)
		case "d":
			sh.dir, _ = it["inode"].(string)
		}
	}
	if sh.file == "" || sh.dir == "" {
		t.Fatalf("the fixture share lists %s", list.Body)
	}
	return sh
}

// verifyShare mints a share access token of sh through verify (13.9).
func (m *matrix) verifyShare(t *testing.T, sh *shareFixture) string {
	t.Helper()
	r := m.s.on(t).call("POST", "/api/v1/share/verify/"+sh.code, nil, map[string]any{"extractionCode": matrixShareCode}, nil)
	tok, _ := r.JSON(t)["accessToken"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("verify the fixture share: %d %s", r.Status, r.Body)
	}
	return tok
}

// shareBody answers the REST body of a share row, and in the allowed phase points a delete at
// a share made for it (the fixture share stays for the rows after it). ok: r is such a row.
func (m *matrix) shareBody(t *testing.T, r gateway.Route, params map[string]string) (body map[string]any, ok bool) {
	t.Helper()
	switch r.RPC {
	case namespacev1.ShareService_CreateShare_FullMethodName:
		return map[string]any{"name": m.next("created"), "filePath": []any{"f.txt"}, "config": map[string]any{"isPermanent": true}}, true
	case namespacev1.ShareService_UpdateShare_FullMethodName:
		return map[string]any{"name": "matrix share", "config": matrixShareConfig()}, true
	case namespacev1.ShareService_SetShareEnabled_FullMethodName:
		return map[string]any{"ownerEnabled": true}, true
	case namespacev1.ShareService_VerifyExtractionCode_FullMethodName:
		return map[string]any{"extractionCode": matrixShareCode}, true
	case namespacev1.ShareService_DeleteShare_FullMethodName:
		if m.allowedPhase {
			params["ShareId"] = m.newShare(t, m.a).id
		}
	}
	return nil, false
}

// shareGRPCFields adds the share fields of row r's RPC to vals (proto names); bodies that are
// google.protobuf.Struct travel as such.
func (m *matrix) shareGRPCFields(t *testing.T, r gateway.Route, params map[string]string, vals map[string]any) {
	t.Helper()
	vals["share_code"], vals["share_token"], vals["share_id"], vals["inodes"] = params["ShareCode"], params["ShareToken"], params["ShareId"], params["Inodes"]
	body, ok := m.shareBody(t, r, params)
	vals["share_id"] = params["ShareId"] // shareBody may point a delete elsewhere
	if !ok {
		return
	}
	switch r.RPC {
	case namespacev1.ShareService_SetShareEnabled_FullMethodName:
		vals["body"] = map[string]any{"owner_enabled": true}
	case namespacev1.ShareService_VerifyExtractionCode_FullMethodName:
		vals["body"] = map[string]any{"extraction_code": matrixShareCode}
	default:
		st, err := structpb.NewStruct(body)
		if err != nil {
			t.Fatalf("%s body: %v", r.RPC, err)
		}
		vals["body"] = st
	}
}

// onEveryEngineUnthrottled runs fn like onEveryEngine on systems without the share visitor
// limits: the object service counts a visitor's request before the namespace judges its token
// (so refusals cost the caller too), and the matrix sends hundreds of refused calls to one
// share from one address. The limits have their own tests (TestShareLimitsPerAddress and the
// fetch tests); the wrong-code limit stays, since the matrix only sends right codes.
// The split runner's deployment runs without them for every test (runner_test.go).
func onEveryEngineUnthrottled(t *testing.T, fn func(t *testing.T, s *system)) {
	if split != nil {
		onEveryEngine(t, fn)
		return
	}
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, startSystemWith(t, systemOptions{DSN: e.DSN(t), Tune: func(o *server.Options) {
				limits := ratelimit.DefaultShareLimits()
				limits.Visits, limits.ShareVisits = ratelimit.Rate{}, ratelimit.Rate{} // unlimited
				o.ShareLimits = &limits
			}}))
		})
	}
}
