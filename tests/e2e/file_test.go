package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fileAPI addresses the file endpoints (SMH API section 3) of one library and space.
type fileAPI struct {
	s          *system
	lib, space string
	token      string
	// library is the library with its secret, to mint more tokens.
	library library
}

// url answers the public path of a file: segments escaped one by one (literal "/").
func (f fileAPI) url(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/api/v1/file/" + f.lib + "/" + f.space + "/" + strings.Join(segs, "/")
}

func (f fileAPI) do(method, path string, q url.Values, body any) response {
	f.s.t.Helper()
	return f.doWith(method, path, q, body, nil)
}

// doWith is do with request headers (x-smh-meta-* at begin).
func (f fileAPI) doWith(method, path string, q url.Values, body any, h http.Header) response {
	f.s.t.Helper()
	return f.s.call(method, f.url(path), f.query(q), body, h)
}

// query adds the token to q (a copy) unless q names one.
func (f fileAPI) query(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	if f.token != "" && out.Get("access_token") == "" {
		out.Set("access_token", f.token)
	}
	return out
}

// raw sends a request to an absolute URL (the data endpoint a ticket or cosUrl names).
func (s *system) raw(method, rawURL string, body io.Reader, header http.Header) response {
	s.t.Helper()
	r, err := s.tryRaw(method, rawURL, body, header)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// ticket is a begin-upload answer (3.1, 3.2).
type ticket struct {
	Domain     string            `json:"domain"`
	Path       string            `json:"path"`
	UploadID   string            `json:"uploadId"`
	Headers    map[string]string `json:"headers"`
	Form       map[string]string `json:"form"`
	ConfirmKey string            `json:"confirmKey"`
	Expiration string            `json:"expiration"`
}

func (f fileAPI) begin(path string, q url.Values, body any) ticket {
	f.s.t.Helper()
	r := f.do("PUT", path, q, body)
	if r.Status != http.StatusCreated {
		f.s.t.Fatalf("begin %s: %d %s", path, r.Status, r.Body)
	}
	var t ticket
	if err := json.Unmarshal(r.Body, &t); err != nil {
		f.s.t.Fatal(err)
	}
	return t
}

// send PUTs data to the ticket's target with exactly its headers (3.1).
func (f fileAPI) send(t ticket, suffix string, data []byte) response {
	f.s.t.Helper()
	h := http.Header{}
	for k, v := range t.Headers {
		h.Set(k, v)
	}
	return f.s.raw("PUT", "https://"+t.Domain+t.Path+suffix, bytes.NewReader(data), h)
}

func (f fileAPI) confirm(key string, q url.Values, body any) response {
	f.s.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("confirm", "")
	return f.do("POST", key, q, body)
}

// upload runs begin, PUT and confirm and answers the confirmed file object.
func (f fileAPI) upload(path string, data []byte, q url.Values) map[string]any {
	f.s.t.Helper()
	t := f.begin(path, q, nil)
	if r := f.send(t, "", data); r.Status != http.StatusOK {
		f.s.t.Fatalf("PUT bytes: %d %s", r.Status, r.Body)
	}
	r := f.confirm(t.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)})
	if r.Status != http.StatusOK {
		f.s.t.Fatalf("confirm %s: %d %s", path, r.Status, r.Body)
	}
	return r.JSON(f.s.t)
}

// download follows GET's 302 and answers the bytes.
func (f fileAPI) download(path string) []byte {
	f.s.t.Helper()
	r := f.do("GET", path, nil, nil)
	if r.Status != http.StatusFound {
		f.s.t.Fatalf("download %s: %d %s", path, r.Status, r.Body)
	}
	got := f.s.raw("GET", r.Header.Get("Location"), nil, nil)
	if got.Status != http.StatusOK {
		f.s.t.Fatalf("GET %s: %d %s", r.Header.Get("Location"), got.Status, got.Body)
	}
	return got.Body
}

// as answers the same library and space with another token ("" = anonymous).
func (f fileAPI) as(token string) fileAPI {
	f.token = token
	return f
}

// dir answers the directory endpoints of the same library and space.
func (f fileAPI) dir() dirAPI { return dirAPI{s: f.s, lib: f.lib, space: f.space} }

// list answers the names in dir ("" = the root), with the listing's types in types.
func (f fileAPI) list(dir string) (names []string, types map[string]string) {
	f.s.t.Helper()
	r := f.dir().do("GET", dir, f.query(url.Values{"limit": {"1000"}}), nil)
	if r.Status != http.StatusOK {
		f.s.t.Fatalf("list %q: %d %s", dir, r.Status, r.Body)
	}
	items, _ := r.JSON(f.s.t)["contents"].([]any)
	names, types = []string{}, map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		name, _ := m["name"].(string)
		names = append(names, name)
		types[name], _ = m["type"].(string)
	}
	return names, types
}

// status answers only the status of a call (HEAD and the like).
func (f fileAPI) status(method, path string) int {
	f.s.t.Helper()
	return f.do(method, path, nil, nil).Status
}

// redirect asks for path with q (a download, ?preview) and answers the 302's Location.
func (f fileAPI) redirect(path string, q url.Values) string {
	f.s.t.Helper()
	r := f.do("GET", path, q, nil)
	if r.Status != http.StatusFound || r.Header.Get("Location") == "" {
		f.s.t.Fatalf("GET %s %v: %d %s, want a 302", path, q, r.Status, r.Body)
	}
	return r.Header.Get("Location")
}

// fetch GETs a URL of the data endpoint and answers its bytes.
func (s *system) fetch(u string) []byte {
	s.t.Helper()
	r := s.raw("GET", u, nil, nil)
	if r.Status != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", u, r.Status, r.Body)
	}
	return r.Body
}

// urlPath answers the path of a URL without its (signed) query.
func urlPath(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func crcOf(data []byte) string { return strconv.FormatUint(crc64.Checksum(data, crcTable), 10) }

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// fileLibrary makes a single-tenant file library (plus ext) and an admin token for it.
func fileLibrary(t *testing.T, s *system, ext map[string]any) fileAPI {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["isFileLibrary"] = true
	lib := s.createLibrary("files", ext)
	token := s.mustMint(lib, q("", "grant", "admin", "user_id", "alice"))
	return fileAPI{s: s, lib: lib.ID, space: "-", token: token, library: lib}
}

func TestSimpleUploadRoundTrip(t *testing.T) { onEveryEngine(t, testSimpleUploadRoundTrip) }

// testSimpleUploadRoundTrip: a simple upload, invisible until confirm, then HEAD, download,
// %2F paths, ?info and ranged reads of the cosUrl.
func testSimpleUploadRoundTrip(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 300_000)
	name := "docs/年报 2026 #1.bin"
	dirAPI{s: s, lib: f.lib, space: f.space}.mkdirs(t, f.token, []string{"docs"})

	tk := f.begin(name, nil, map[string]any{"labels": []string{"a"}, "category": "reports"})
	if tk.ConfirmKey == "" || tk.Domain == "" || !strings.HasPrefix(tk.Path, "/") || strings.Contains(tk.Path, "?") {
		t.Fatalf("bad ticket %+v", tk)
	}
	if _, err := time.Parse(time.RFC3339, tk.Expiration); err != nil {
		t.Fatalf("expiration %q: %v", tk.Expiration, err)
	}
	put := f.send(tk, "", data)
	if put.Status != http.StatusOK || put.Header.Get("ETag") == "" {
		t.Fatalf("PUT: %d %v %s", put.Status, put.Header, put.Body)
	}
	// Invisible until confirm (pitfall 3).
	if r := f.do("HEAD", name, nil, nil); r.Status != http.StatusNotFound {
		t.Fatalf("HEAD before confirm: %d", r.Status)
	}
	r := f.confirm(tk.ConfirmKey, url.Values{"with_inode": {"1"}}, map[string]any{"crc64": crcOf(data)})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	file := r.JSON(t)
	if file["name"] != "年报 2026 #1.bin" || file["size"] != "300000" || file["crc64"] != crcOf(data) ||
		file["type"] != "file" || file["inode"] == nil || fmt.Sprint(file["path"]) != "[docs 年报 2026 #1.bin]" {
		t.Fatalf("file object %v", file)
	}
	// Confirm is idempotent on its key.
	if again := f.confirm(tk.ConfirmKey, url.Values{"with_inode": {"1"}}, nil); again.Status != http.StatusOK || again.JSON(t)["inode"] != file["inode"] {
		t.Fatalf("second confirm: %d %s", again.Status, again.Body)
	}

	head := f.do("HEAD", name, nil, nil)
	if head.Status != http.StatusOK || head.Header.Get("x-smh-size") != "300000" || head.Header.Get("x-smh-crc64") != crcOf(data) ||
		head.Header.Get("x-smh-type") != "file" {
		t.Fatalf("HEAD: %d %v", head.Status, head.Header)
	}
	if got := f.download(name); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(got), len(data))
	}
	// %2F in place of "/" names the same file (12.3).
	enc := s.call("GET", "/api/v1/file/"+f.lib+"/-/"+url.PathEscape(name), q(f.token), nil, nil)
	if enc.Status != http.StatusFound {
		t.Fatalf("download with %%2F: %d %s", enc.Status, enc.Body)
	}

	info := f.do("GET", name, url.Values{"info": {""}, "period": {"120"}}, nil)
	if info.Status != http.StatusOK {
		t.Fatalf("info: %d %s", info.Status, info.Body)
	}
	im := info.JSON(t)
	cos, _ := im["cosUrl"].(string)
	if entry := f.dir().do("GET", name, f.query(q("", "info", "")), nil).JSON(t); entry["category"] != "reports" {
		t.Fatalf("directory ?info of the file: %v", entry)
	}
	if cos == "" || im["size"] != "300000" || im["labels"] == nil || im["category"] != "reports" {
		t.Fatalf("info %v", im)
	}
	// Ranges at the edges (206), as the JS SDK downloads.
	for _, tc := range []struct {
		rng        string
		start, end int
	}{{"bytes=0-0", 0, 1}, {"bytes=299999-", 299999, 300000}, {"bytes=-10", 299990, 300000}, {"bytes=1000-2000", 1000, 2001}} {
		got := s.raw("GET", cos, nil, http.Header{"Range": {tc.rng}})
		if got.Status != http.StatusPartialContent || !bytes.Equal(got.Body, data[tc.start:tc.end]) {
			t.Fatalf("range %s: %d, %d bytes", tc.rng, got.Status, len(got.Body))
		}
	}
	if got := s.raw("GET", cos, nil, http.Header{"Range": {"bytes=400000-"}}); got.Status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %d", got.Status)
	}
	if got := s.raw("HEAD", cos, nil, nil); got.Status != http.StatusOK || got.Header.Get("Content-Length") != "300000" {
		t.Fatalf("HEAD on cosUrl: %d %v", got.Status, got.Header)
	}
	// Bytes of no passive type are a download, never a page (hostile_files_test.go).
	if cd := s.raw("GET", cos, nil, nil).Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "filename") {
		t.Fatalf("Content-Disposition %q", cd)
	}
}

func TestSignaturesAreChecked(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 1000)
	tk := f.begin("a.bin", nil, nil)

	tampered := tk
	tampered.Headers = map[string]string{"Authorization": tk.Headers["Authorization"] + "0"}
	expectXML(t, f.send(tampered, "", data), http.StatusForbidden, "SignatureDoesNotMatch")
	expectXML(t, f.send(ticket{Domain: tk.Domain, Path: tk.Path}, "", data), http.StatusForbidden, "AccessDenied")
	// A ticket for one upload does not open another.
	other := f.begin("b.bin", nil, nil)
	moved := tk
	moved.Path = other.Path
	expectXML(t, f.send(moved, "", data), http.StatusForbidden, "SignatureDoesNotMatch")

	// Confirm before the bytes: 404 UploadIncomplete.
	expectError(t, f.confirm(tk.ConfirmKey, nil, nil), http.StatusNotFound, "UploadIncomplete")
	if r := f.send(tk, "", data); r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	expectError(t, f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": "12345"}), http.StatusBadRequest, "BadCrc64")
	expectError(t, f.confirm("0123456789abcdef0123456789abcdef", nil, nil), http.StatusNotFound, "UploadNotFound")

	// Download URLs: altered or expired ones are refused.
	file := f.upload("c.bin", data, nil)
	cos := f.do("GET", "c.bin", url.Values{"info": {""}}, nil).JSON(t)["cosUrl"].(string)
	expectXML(t, s.raw("GET", strings.Replace(cos, "c.bin", "d.bin", 1), nil, nil), http.StatusForbidden, "SignatureDoesNotMatch")
	s.fakeClock().Advance(3 * time.Hour)
	expectXML(t, s.raw("GET", cos, nil, nil), http.StatusForbidden, "AccessDenied")
	expectXML(t, f.send(other, "", data), http.StatusForbidden, "AccessDenied")
	_ = file
}

// expectXML checks a COS-style XML error of the data endpoint (decision 11).
func expectXML(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status || !strings.Contains(string(r.Body), "<Code>"+code+"</Code>") || !strings.Contains(string(r.Body), "<RequestId>") {
		t.Fatalf("want %d %s, got %d %s", status, code, r.Status, r.Body)
	}
}

func TestMultipartUpload(t *testing.T) { onEveryEngine(t, testMultipartUpload) }

// testMultipartUpload: parts out of order, a gap refused, status, renew, confirm, download.
func testMultipartUpload(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 2<<20+12345)
	r := f.do("POST", "big.bin", url.Values{"multipart": {""}}, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin multipart: %d %s", r.Status, r.Body)
	}
	var tk ticket
	if err := json.Unmarshal(r.Body, &tk); err != nil || tk.UploadID == "" {
		t.Fatalf("ticket %s", r.Body)
	}
	parts := [][]byte{data[:1<<20], data[1<<20 : 2<<20], data[2<<20:]}
	// Out of order, as concurrent clients send them.
	for _, n := range []int{3, 1} {
		put := f.send(tk, fmt.Sprintf("?partNumber=%d&uploadId=%s", n, tk.UploadID), parts[n-1])
		if put.Status != http.StatusOK || put.Header.Get("ETag") == "" {
			t.Fatalf("part %d: %d %s", n, put.Status, put.Body)
		}
	}
	// A gap: confirm refuses.
	expectError(t, f.confirm(tk.ConfirmKey, nil, nil), http.StatusBadRequest, "MultipartUploadIncomplete")
	status := f.do("GET", tk.ConfirmKey, url.Values{"upload": {""}}, nil)
	if status.Status != http.StatusOK {
		t.Fatalf("status: %d %s", status.Status, status.Body)
	}
	st := status.JSON(t)
	ps, _ := st["parts"].([]any)
	if st["confirmed"] != false || len(ps) != 2 || ps[0].(map[string]any)["PartNumber"] != 1.0 ||
		ps[0].(map[string]any)["Size"] != float64(1<<20) || !strings.HasPrefix(ps[0].(map[string]any)["ETag"].(string), `"`) {
		t.Fatalf("status %s", status.Body)
	}
	// Renew: a fresh ticket for the same upload.
	renewed := f.do("POST", tk.ConfirmKey, url.Values{"renew": {""}}, nil)
	if renewed.Status != http.StatusOK {
		t.Fatalf("renew: %d %s", renewed.Status, renewed.Body)
	}
	var tk2 ticket
	_ = json.Unmarshal(renewed.Body, &tk2)
	if put := f.send(tk2, "?partNumber=2&uploadId="+tk.UploadID, parts[1]); put.Status != http.StatusOK {
		t.Fatalf("part 2: %d %s", put.Status, put.Body)
	}
	c := f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)})
	if c.Status != http.StatusOK || c.JSON(t)["size"] != strconv.Itoa(len(data)) {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	if got := f.download("big.bin"); !bytes.Equal(got, data) {
		t.Fatal("multipart file differs from the parts")
	}
	if st := f.do("GET", tk.ConfirmKey, url.Values{"upload": {""}}, nil).JSON(t); st["confirmed"] != true {
		t.Fatalf("status after confirm: %v", st)
	}
}

func TestFormUpload(t *testing.T) { testFormUpload(t, startSystem(t)) }

// testFormUpload: a browser form POST to the data endpoint, then confirm and download.
func testFormUpload(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 5000)
	r := f.do("POST", "form.bin", nil, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin form: %d %s", r.Status, r.Body)
	}
	var tk ticket
	_ = json.Unmarshal(r.Body, &tk)
	if tk.Path != "/" || tk.Form["key"] == "" {
		t.Fatalf("form ticket %s", r.Body)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range tk.Form {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "form.bin")
	_, _ = fw.Write(data)
	_ = mw.Close()
	post := s.raw("POST", "https://"+tk.Domain+"/", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
	if post.Status != http.StatusNoContent {
		t.Fatalf("form POST: %d %s", post.Status, post.Body)
	}
	if c := f.confirm(tk.ConfirmKey, nil, nil); c.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	if got := f.download("form.bin"); !bytes.Equal(got, data) {
		t.Fatal("form upload differs")
	}
}

func TestInstantUpload(t *testing.T) { testInstantUpload(t, startSystem(t)) }

// testInstantUpload: the 202 probe and the 200 instant upload by hash (decision 2).
func testInstantUpload(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 3<<20+7)
	f.upload("one.bin", data, nil)
	beginning, full := chainedHashes(data)
	size := strconv.Itoa(len(data))

	probe := f.do("PUT", "two.bin", nil, map[string]any{"beginningHash": beginning, "size": size})
	if probe.Status != http.StatusAccepted {
		t.Fatalf("probe: %d %s", probe.Status, probe.Body)
	}
	done := f.do("PUT", "two.bin", nil, map[string]any{"beginningHash": beginning, "fullHash": full, "size": size})
	if done.Status != http.StatusOK {
		t.Fatalf("instant upload: %d %s", done.Status, done.Body)
	}
	if m := done.JSON(t); m["name"] != "two.bin" || m["size"] != size || m["crc64"] != crcOf(data) {
		t.Fatalf("instant upload answered %v", m)
	}
	if got := f.download("two.bin"); !bytes.Equal(got, data) {
		t.Fatal("instant-uploaded file differs")
	}
	// Another library cannot take the content by its hash.
	g := fileLibrary(t, s, nil)
	if r := g.do("PUT", "x.bin", nil, map[string]any{"beginningHash": beginning, "fullHash": full, "size": size}); r.Status != http.StatusCreated {
		t.Fatalf("other library: %d %s", r.Status, r.Body)
	}
	// A wrong full hash is a normal upload.
	if r := f.do("PUT", "three.bin", nil, map[string]any{"beginningHash": beginning, "fullHash": strings.Repeat("0", 64), "size": size}); r.Status != http.StatusCreated {
		t.Fatalf("wrong hash: %d %s", r.Status, r.Body)
	}
}

func TestUploadConflictsAndPaths(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) { uploadConflictsAndPaths(t, s) })
}

// uploadConflictsAndPaths checks the conflict strategies, the force rule, parents and the file
// in the middle of a path (issue 3 item 4: 409) over HTTPS.
func uploadConflictsAndPaths(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := []byte("hello")
	f.upload("a.txt", data, nil)

	// rename is the default for files: "a (1).txt".
	if m := f.upload("a.txt", data, nil); fmt.Sprint(m["path"]) != "[a (1).txt]" {
		t.Fatalf("rename: %v", m)
	}
	expectError(t, f.do("PUT", "a.txt", q("", "conflict_resolution_strategy", "ask"), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
	expectError(t, f.do("PUT", "a.txt", q("", "conflict_resolution_strategy", "sideways"), nil), http.StatusBadRequest, "InvalidConflictResolutionStrategy")
	// Parents are not created for files; a file in the middle of a path is a conflict.
	expectError(t, f.do("PUT", "no/such/dir/x.txt", nil, nil), http.StatusNotFound, "DirectoryNotFound")
	expectError(t, f.do("PUT", "a.txt/x.txt", nil, nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
	expectError(t, dirAPI{s: s, lib: f.lib, space: f.space}.do("PUT", "a.txt/sub", q(f.token), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")

	// overwrite needs a *_force grant (decision 3).
	plain := fileAPI{s: s, lib: f.lib, space: "-", token: s.mustMint(f.library, q("", "grant", "upload_file", "user_id", "bob"))}
	expectError(t, plain.do("PUT", "a.txt", q("", "conflict_resolution_strategy", "overwrite"), nil), http.StatusForbidden, "NoPermission")
	// With admin (which implies force) the overwrite keeps the inode.
	before := f.do("GET", "a.txt", url.Values{"info": {""}, "with_inode": {"1"}}, nil).JSON(t)["inode"]
	m := f.upload("a.txt", []byte("bye"), q("", "conflict_resolution_strategy", "overwrite", "with_inode", "1"))
	if m["isOverwritten"] != true {
		t.Fatalf("overwrite answered %v", m)
	}
	if after := f.do("GET", "a.txt", url.Values{"info": {""}, "with_inode": {"1"}}, nil).JSON(t)["inode"]; after != before {
		t.Fatalf("inode %v became %v", before, after)
	}
	if got := f.download("a.txt"); string(got) != "bye" {
		t.Fatalf("after overwrite: %q", got)
	}
	// Another user cannot confirm someone else's upload.
	tk := f.begin("mine.txt", nil, nil)
	f.send(tk, "", data)
	expectError(t, plain.confirm(tk.ConfirmKey, nil, nil), http.StatusForbidden, "UploadNotBelongYou")
	// Without a token nothing is read or written.
	anon := fileAPI{s: s, lib: f.lib, space: "-"}
	expectError(t, anon.do("GET", "a.txt", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("PUT", "z.txt", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
}

// chainedHashes computes 3.1's instant-upload hashes: SHA-256 of the first MiB, and the SHA-256
// chain over 1 MiB chunks. Written here from the spec, independently of the server's code.
func chainedHashes(data []byte) (beginning, full string) {
	const chunk = 1 << 20
	first := data[:min(len(data), chunk)]
	b := sha256.Sum256(first)
	var prev []byte
	for off := 0; off < len(data) || off == 0; off += chunk {
		part := data[off:min(len(data), off+chunk)]
		h := sha256.New()
		h.Write(prev)
		h.Write(part)
		prev = h.Sum(nil)
		if len(data) == 0 {
			break
		}
	}
	return hex.EncodeToString(b[:]), hex.EncodeToString(prev)
}

// TestDataEndpointCORS: browsers upload to and download from the data endpoint cross-origin
// (decision 11): preflights answer, and the part ETag, ranges and x-smh-* facts are readable.
func TestDataEndpointCORS(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	tk := f.begin("cors.bin", nil, nil)
	origin := "https://app.example.com"
	pre := s.raw("OPTIONS", "https://"+tk.Domain+tk.Path, nil, http.Header{
		"Origin": {origin}, "Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"authorization,content-type"},
	})
	if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
	}
	h := http.Header{"Origin": {origin}}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	put := s.raw("PUT", "https://"+tk.Domain+tk.Path, strings.NewReader("cross-origin bytes"), h)
	if put.Status != http.StatusOK || put.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(put.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("PUT: %d %v", put.Status, put.Header)
	}
	if c := f.confirm(tk.ConfirmKey, nil, nil); c.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	cos := f.do("GET", "cors.bin", url.Values{"info": {""}}, nil).JSON(t)["cosUrl"].(string)
	got := s.raw("GET", cos, nil, http.Header{"Origin": {origin}, "Range": {"bytes=0-4"}})
	expose := got.Header.Get("Access-Control-Expose-Headers")
	if got.Status != http.StatusPartialContent || string(got.Body) != "cross" || got.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(expose, "Content-Range") || !strings.Contains(expose, "x-smh-crc64") {
		t.Fatalf("ranged GET: %d %q %v", got.Status, got.Body, got.Header)
	}
	// A form upload's preflight goes to the root of the domain.
	if pre := s.raw("OPTIONS", "https://"+tk.Domain+"/", nil, http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}}); pre.Status != http.StatusNoContent {
		t.Fatalf("form preflight: %d", pre.Status)
	}
}
