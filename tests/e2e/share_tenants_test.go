package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestSharesStayInTheirTenant: in a multi-tenant library a token minted for some spaces sees and
// manages only those spaces' shares, whatever its grants or user id (docs/shares.md,
// "Authorization"); an admin of every space sees them all. On both engines.
func TestSharesStayInTheirTenant(t *testing.T) { onEveryEngine(t, testSharesStayInTheirTenant) }

func testSharesStayInTheirTenant(t *testing.T, s *system) {
	lib, admin := multiTenantFiles(t, s, nil, "ta", "tb")
	fileAPI{s: s, lib: lib.ID, space: "ta", token: admin}.upload("a.txt", []byte("a"), nil)
	aliceA := s.mustMint(lib, url.Values{"space_id": {"ta"}, "user_id": {"alice"}})
	aliceB := s.mustMint(lib, url.Values{"space_id": {"tb"}, "user_id": {"alice"}})
	adminB := s.mustMint(lib, url.Values{"grant": {"admin"}, "space_id": {"tb"}, "user_id": {"alice"}})
	sa := shareAPI{s: s, lib: lib.ID}
	r := sa.create(aliceA, "ta", map[string]any{"name": "of a", "filePath": []string{"a.txt"}, "config": map[string]any{"isPermanent": true}})
	if r.Status != http.StatusOK {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)

	for _, c := range []struct {
		name, token string
		want        []string
	}{{"creator in its space", aliceA, []string{"of a"}}, {"creator's token of another space", aliceB, nil},
		{"admin of another space", adminB, nil}, {"admin of every space", admin, []string{"of a"}}} {
		if got := shareNames(t, sa.list(c.token, "limit", "100")); !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v", c.name, got, c.want)
		}
	}
	for _, tok := range []string{aliceB, adminB} {
		expectError(t, sa.detail(tok, id), http.StatusForbidden, "NoPermission")
		expectError(t, s.call("DELETE", "/api/v1/share/"+lib.ID+"/"+id, q(tok), nil, nil), http.StatusForbidden, "NoPermission")
	}
	expectError(t, s.call("POST", "/api/v1/share/"+lib.ID+"/search", q(adminB), map[string]any{}, nil), http.StatusForbidden, "NoPermission")
	if r := sa.detail(aliceA, id); r.Status != http.StatusOK {
		t.Fatalf("the creator's detail: %d %s", r.Status, r.Body)
	}
	if r := s.call("POST", "/api/v1/share/"+lib.ID+"/search", q(admin), map[string]any{}, nil); r.Status != http.StatusOK {
		t.Fatalf("search by the admin of every space: %d %s", r.Status, r.Body)
	}
}
