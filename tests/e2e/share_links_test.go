package e2e

import (
	"bytes"
	"net/http"
	"testing"
)

func TestShareSymlinksStayInside(t *testing.T) { onEveryEngine(t, testShareSymlinksStayInside) }

// testShareSymlinksStayInside: a symlink in a shared folder leads a visitor to its target only
// when the target is shared too; a link to a file outside the share answers 404
// FileNotInShare, and a folder's zip holds its files, not its links (docs/shares.md).
func testShareSymlinksStayInside(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"docs", "private"})
	inside := []byte("shared bytes\n")
	f.upload("docs/in.txt", inside, nil)
	f.upload("private/secret.txt", []byte("not shared"), nil)
	for link, target := range map[string]string{"docs/to-in": "docs/in.txt", "docs/to-secret": "private/secret.txt"} {
		if r := f.do("PUT", link, nil, map[string]any{"linkTo": target}); r.Status >= 300 {
			t.Fatalf("link %s: %d %s", link, r.Status, r.Body)
		}
	}
	_, code := shareOwner{f: f}.create(t, "links", []string{"docs"}, map[string]any{"isPermanent": true, "canDownload": true})
	v := visit(t, s, code)
	docs := v.inodes(t)["docs"]
	in := v.inodes(t, docs)
	if got := v.follow(t, v.get("download", docs, in["to-in"]), nil); got.Status != http.StatusOK || !bytes.Equal(got.Body, inside) {
		t.Fatalf("a link to a shared file: %d %q", got.Status, got.Body)
	}
	expectError(t, v.get("download", docs, in["to-secret"]), http.StatusNotFound, "FileNotInShare")
	expectZip(t, v.follow(t, v.get("zip", docs), nil), map[string][]byte{"in.txt": inside})
}
