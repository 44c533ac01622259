package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type entry struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Size         string `json:"size"`
	CRC64        string `json:"crc64"`
	RelativePath string `json:"relativePath"`
}

type moved struct {
	Local, Remote, Size, CRC64 string
}

func TestFilesRoundTrip(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	small := u.writeFile("notes.txt", []byte("hello, smh\n"))
	u.writeFile("site/index.html", []byte("<h1>hi</h1>"))
	u.writeFile("site/css/a.css", []byte("body{}"))
	if err := os.MkdirAll(filepath.Join(u.dir, "site", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	u.ok("mkdir", "-p", lib.at("docs/2026/12"))
	u.ok("mkdir", "-p", lib.at("docs/2026/12")) // -p: an existing directory is fine
	u.fails(1, "SameNameDirectoryOrFileExists", "mkdir", lib.at("docs"))

	var put []moved
	u.okJSON(&put, "put", small, lib.at("docs/"))
	if len(put) != 1 || put[0].Remote != lib.at("docs/notes.txt") || put[0].Size != "11" || put[0].CRC64 == "" {
		t.Fatalf("put answered %+v", put)
	}
	u.ok("put", "-r", filepath.Join(u.dir, "site"), lib.at(""))

	var listed []entry
	u.okJSON(&listed, "ls", "-r", lib.at(""))
	var paths []string
	for _, e := range listed {
		paths = append(paths, e.RelativePath)
	}
	for _, want := range []string{"docs", "docs/2026/12", "docs/notes.txt", "site/index.html", "site/css/a.css", "site/empty"} {
		if !slices.Contains(paths, want) {
			t.Fatalf("ls -r lacks %s: %v", want, paths)
		}
	}
	if out := u.ok("ls", lib.at("site")); !strings.Contains(out, "DIR  css/") || !strings.Contains(out, "11  index.html") {
		t.Fatalf("ls output:\n%s", out)
	}

	var st entry
	u.okJSON(&st, "stat", lib.at("docs/notes.txt"))
	if st.Type != "file" || st.Size != "11" || st.CRC64 != put[0].CRC64 {
		t.Fatalf("stat answered %+v", st)
	}

	// Conflicts: ask (the default) refuses, rename keeps both, overwrite replaces.
	other := u.writeFile("other/notes.txt", []byte("second version"))
	u.fails(1, "SameNameDirectoryOrFileExists", "put", other, lib.at("docs/notes.txt"))
	u.okJSON(&put, "put", "--conflict", "rename", other, lib.at("docs/notes.txt"))
	if put[0].Remote != lib.at("docs/notes (1).txt") {
		t.Fatalf("rename landed at %s", put[0].Remote)
	}
	u.ok("put", "--conflict", "overwrite", other, lib.at("docs/notes.txt"))
	if got := u.ok("get", lib.at("docs/notes.txt"), "-"); got != "second version" {
		t.Fatalf("get - after overwrite: %q", got)
	}

	// mv and cp, into a directory and to a new name.
	u.ok("mv", lib.at("docs/notes (1).txt"), lib.at("docs/2026/"))
	u.ok("cp", lib.at("docs/2026"), lib.at("backup"))
	u.ok("stat", lib.at("backup/12"))
	u.ok("stat", lib.at("backup/notes (1).txt"))
	u.fails(1, "", "stat", lib.at("docs/notes (1).txt"))

	// get -r rebuilds the tree; files keep their bytes.
	out := filepath.Join(u.dir, "restore")
	u.ok("get", "-r", lib.at("site"), out)
	for name, want := range map[string]string{"index.html": "<h1>hi</h1>", "css/a.css": "body{}"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "empty")); err != nil || !st.IsDir() {
		t.Fatalf("empty directory not recreated: %v", err)
	}

	// rm: a directory needs -r (usage error, nothing deleted).
	u.fails(2, "give -r", "rm", lib.at("site"))
	u.ok("stat", lib.at("site/index.html"))
	u.ok("rm", "-r", lib.at("site"))
	u.fails(1, "NotFound", "stat", lib.at("site"))
}

func TestUsageAndAPIExitCodes(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	for _, args := range [][]string{
		{"ls"},
		{"ls", "not-an-address"},
		{"put", "only-one-arg"},
		{"put", "--conflict", "sometimes", "x", lib.at("x")},
		{"put", "--part-size", "0", "x", lib.at("x")},
		{"cp", lib.at("a"), "local"},
		{"get", lib.at("a"), lib.at("b"), "-"},
		{"ls", lib.at("../etc")},
		{"mv", lib.at("a"), lib.ID + "/space:b"},
		{"frobnicate"},
	} {
		if r := u.run(args...); r.code != 2 {
			t.Errorf("smh %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	u.fails(1, "NotFound", "get", lib.at("missing.txt"), "-")
	// A wrong secret is an API error, and no secret shows in what the command prints.
	bad := user{t: t, env: []string{"SMH_LIBRARY_SECRET=wrong-secret-value-123"}, dir: t.TempDir()}
	r := bad.fails(1, "", "ls", lib.at(""))
	if strings.Contains(r.stderr, "wrong-secret-value-123") || strings.Contains(r.stderr, lib.Secret) {
		t.Fatalf("stderr shows a secret: %s", r.stderr)
	}
	// Without credentials a private library refuses.
	anon := user{t: t, dir: t.TempDir()}
	anon.fails(1, "", "ls", lib.at(""))
}

// TestSpacesAddressing: in a multi-tenant library LIBRARY/SPACE:path names one space; a token for
// one space (--token) reaches it and not the other; the library secret reaches both.
func TestSpacesAddressing(t *testing.T) {
	lib := newLibrary(t, "", "--file-library", "--multi-space")
	owner := lib.owner(t)
	admin := lib.token(t)
	hc, err := httpsClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{"team-a", "team-b"} {
		resp, err := hc.Post(server.url+"/api/v1/space/"+lib.ID+"?space_id="+space+"&access_token="+url.QueryEscape(admin), "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create space %s: HTTP %d", space, resp.StatusCode)
		}
	}
	a, b := lib.ID+"/team-a:", lib.ID+"/team-b:"
	owner.ok("put", owner.writeFile("plan.txt", []byte("a's plan")), a+"plan.txt")
	owner.ok("put", owner.writeFile("other.txt", []byte("b's")), b+"other.txt")
	if got := owner.ok("get", a+"plan.txt", "-"); got != "a's plan" {
		t.Fatalf("get from team-a: %q", got)
	}
	owner.fails(1, "NotFound", "stat", b+"plan.txt")

	// A token minted for team-a only.
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	out := operator(t).ok("token", "create", "--library", lib.ID, "--library-secret", lib.Secret, "--space", "team-a", "--grant", "space_admin")
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	member := user{t: t, env: []string{"SMH_TOKEN=" + tok.AccessToken}, dir: t.TempDir()}
	member.ok("ls", a)
	r := member.fails(1, "", "ls", b)
	if strings.Contains(r.stderr, tok.AccessToken) {
		t.Fatal("the refusal shows the token")
	}
	member.fails(1, "", "get", b+"other.txt", "-")
}

// TestPutFromStdin: put - uploads what it reads, and needs a file name to put it under.
func TestPutFromStdin(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	data := strings.Repeat("a line of a log\n", 200000) // 3.2 MB: more than one part
	c := u.cmd("put", "--part-size", "1", "--json", "-", lib.at("logs.txt"))
	tmp := t.TempDir()
	c.Env = append(c.Env, "TMPDIR="+tmp)
	c.Stdin = strings.NewReader(data)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("put -: %v", err)
	}
	var res []moved
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 || res[0].Local != "-" || res[0].Size != "3200000" {
		t.Fatalf("put - answered %s (%v)", out, err)
	}
	if got := u.ok("get", lib.at("logs.txt"), "-"); got != data {
		t.Fatalf("get - answered %d bytes, want %d", len(got), len(data))
	}
	u.fails(2, "file name", "put", "-", lib.at("dir/"))
	u.fails(2, "stdin", "put", "-", "x", lib.at("two"))
	if files, _ := os.ReadDir(tmp); len(files) != 0 {
		t.Fatalf("temporary files left: %v", files)
	}
}
