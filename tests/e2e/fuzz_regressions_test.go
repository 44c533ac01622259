package e2e

import (
	"net/http"
	"testing"
)

// TestTrailingSlashOnAFilePath is the regression test of what the dispatcher's path fuzz target
// found: a literal trailing "/" after a file path was dropped, so "d/x.txt/" reached file
// "d/x.txt" while "d%2Fx.txt%2F" was EmptyFileName. "/" and "%2F" are the same (12.3), so both
// name no file; on a directory route the trailing "/" stays harmless.
func TestTrailingSlashOnAFilePath(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"d"})
	f.upload("d/x.txt", []byte("x"), nil)

	base := "/api/v1/file/" + f.lib + "/" + f.space + "/"
	for _, path := range []string{"d/x.txt/", "d%2Fx.txt%2F", "d/", "d%2F"} {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			t.Run(method+" "+path, func(t *testing.T) {
				expectError(t, s.call(method, base+path, q(f.token), nil, nil), http.StatusBadRequest, "EmptyFileName")
			})
		}
	}
	if got := string(f.download("d/x.txt")); got != "x" {
		t.Fatalf("the file after the refused calls: %q", got)
	}
	for _, path := range []string{"d/", "d%2F"} {
		r := s.call("GET", "/api/v1/directory/"+f.lib+"/"+f.space+"/"+path, q(f.token), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list %s: %d %s", path, r.Status, r.Body)
		}
	}
}
