package app

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/blob"
)

// sharedTreeSource answers ListSharedTree from a fixed tree in pages, as the namespace would,
// and starts refusing once disabled (the share switched off while its zip streams). The
// namespace's own judgement is tested end to end (tests/e2e/share_fetch_test.go); this unit
// covers the stream.
type sharedTreeSource struct {
	mu       sync.Mutex
	entries  []*namespacev1.SharedTreeEntry
	disabled bool
	calls    int
	signed   []bool
}

func (s *sharedTreeSource) ResolveSharedFile(context.Context, *namespacev1.ResolveSharedFileRequest) (*namespacev1.ResolveSharedFileResponse, error) {
	return nil, errors.New("not used")
}

func (s *sharedTreeSource) ListSharedTree(_ context.Context, in *namespacev1.ListSharedTreeRequest) (*namespacev1.ListSharedTreeResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.signed = append(s.signed, in.GetSignedByObject())
	if s.disabled {
		return nil, smherr.New(http.StatusForbidden, "ShareDisabled", "the share is disabled")
	}
	start := 0
	if in.GetMarker() != "" {
		for i, e := range s.entries {
			if strings.Join(e.GetPath(), "/") == in.GetMarker() {
				start = i + 1
			}
		}
	}
	end := min(start+int(in.GetLimit()), len(s.entries))
	resp := &namespacev1.ListSharedTreeResponse{LibraryId: "smhlib", SpaceId: "-", Name: "holiday", Entries: s.entries[start:end]}
	if end < len(s.entries) {
		resp.NextMarker = strings.Join(s.entries[end-1].GetPath(), "/")
	}
	return resp, nil
}

type zipFixture struct {
	obj   *Object
	src   *sharedTreeSource
	bytes map[string][]byte // zip name -> content
}

// newZipFixture stores files of the given sizes in a local blob store and describes them, with
// the directories, as the namespace lists a shared tree.
func newZipFixture(t *testing.T, limits ZipLimits, files map[string]int, dirs ...string) *zipFixture {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx := &zipFixture{src: &sharedTreeSource{}, bytes: map[string][]byte{}}
	for _, d := range dirs {
		fx.src.entries = append(fx.src.entries, &namespacev1.SharedTreeEntry{Path: strings.Split(d, "/"), IsDir: true})
	}
	for name, size := range files {
		content := make([]byte, size)
		_, _ = rand.Read(content)
		id := newID()
		if size > 0 {
			if _, err := local.Put(context.Background(), blobKey(id), bytes.NewReader(content), int64(size)); err != nil {
				t.Fatal(err)
			}
		} else {
			id = ""
		}
		fx.bytes[name] = content
		fx.src.entries = append(fx.src.entries, &namespacev1.SharedTreeEntry{Path: strings.Split(name, "/"), File: &namespacev1.StoredFile{
			BlobId: id, File: &namespacev1.FileObject{Size: int64(size), ContentType: "application/octet-stream", ModificationTime: "2026-12-01T10:00:00.000Z"},
		}})
	}
	fx.obj = New(Config{Blobs: local, Signer: NewSigner("zip test key"), Domain: "data.test", Shares: fx.src, ZipLimits: limits})
	return fx
}

func (fx *zipFixture) open(t *testing.T) *SharedZip {
	t.Helper()
	z, err := fx.obj.OpenSharedZip(context.Background(), "code1", signedZipQuery(t, fx.obj, "code1", "7/8"))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func signedZipQuery(t *testing.T, o *Object, code, chain string) url.Values {
	t.Helper()
	p := o.signer.ZipPath(code, chain, time.Now().Add(time.Minute))
	_, query, _ := strings.Cut(p, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSharedZipStreamsEveryFileAndDirectory(t *testing.T) {
	fx := newZipFixture(t, ZipLimits{}, map[string]int{
		"a.txt": 1000, "docs/b.bin": 200 << 10, "docs/deep/c.jpg": 3000, "empty.txt": 0,
	}, "docs", "docs/deep", "docs/nothing-inside")
	z := fx.open(t)
	if z.FileName() != "holiday.zip" {
		t.Fatalf("file name %q", z.FileName())
	}
	var out bytes.Buffer
	if err := z.WriteTo(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range zr.File {
		seen[f.Name] = true
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		want, ok := fx.bytes[f.Name]
		if !ok {
			t.Fatalf("unexpected entry %q", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes (err %v), want %d identical bytes", f.Name, len(got), err, len(want))
		}
		if wantMethod := compressionOf("application/octet-stream", f.Name); f.Method != wantMethod {
			t.Fatalf("%s: method %d, want %d", f.Name, f.Method, wantMethod)
		}
	}
	for _, name := range []string{"a.txt", "empty.txt", "docs/b.bin", "docs/deep/c.jpg", "docs/", "docs/deep/", "docs/nothing-inside/"} {
		if !seen[name] {
			t.Fatalf("missing %q in %v", name, seen)
		}
	}
	for _, s := range fx.src.signed {
		if !s {
			t.Fatal("the data endpoint's listing must be the operator's signed form")
		}
	}
}

func TestSharedZipCutWhenShareDisabledMidway(t *testing.T) {
	// RecheckBytes 1: the share is checked again before every file after the first.
	fx := newZipFixture(t, ZipLimits{RecheckBytes: 1}, map[string]int{"one.bin": 4096, "two.bin": 4096, "three.bin": 4096})
	z := fx.open(t)
	w := &disableAfterFirstWrite{src: fx.src}
	err := z.WriteTo(context.Background(), w)
	var smh *smherr.Error
	if !errors.As(err, &smh) || smh.Code != "ShareDisabled" {
		t.Fatalf("err %v, want the namespace's ShareDisabled", err)
	}
	if _, err := zip.NewReader(bytes.NewReader(w.buf.Bytes()), int64(w.buf.Len())); err == nil {
		t.Fatal("a cut stream must not read as a complete archive")
	}
}

// disableAfterFirstWrite disables the share as soon as the archive's first bytes are written.
type disableAfterFirstWrite struct {
	src *sharedTreeSource
	buf bytes.Buffer
}

func (d *disableAfterFirstWrite) Write(p []byte) (int, error) {
	d.src.mu.Lock()
	d.src.disabled = true
	d.src.mu.Unlock()
	return d.buf.Write(p)
}

func TestSharedZipLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits ZipLimits
		want   error
	}{
		{name: "entries", limits: ZipLimits{MaxEntries: 2}, want: ErrZipTooManyEntries},
		{name: "bytes", limits: ZipLimits{MaxBytes: 5000}, want: ErrZipTooLarge},
		{name: "within", limits: ZipLimits{MaxEntries: 4, MaxBytes: 6000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newZipFixture(t, tt.limits, map[string]int{"a": 3000, "b": 3000}, "d")
			_, err := fx.obj.OpenSharedZip(context.Background(), "code1", signedZipQuery(t, fx.obj, "code1", "7/8"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSharedZipSignature(t *testing.T) {
	fx := newZipFixture(t, ZipLimits{}, map[string]int{"a": 10})
	q := signedZipQuery(t, fx.obj, "code1", "7/8")
	if _, err := fx.obj.OpenSharedZip(context.Background(), "code2", q); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("another share's code: %v", err)
	}
	q["chain"] = []string{"7"}
	if _, err := fx.obj.OpenSharedZip(context.Background(), "code1", q); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("another chain: %v", err)
	}
	if fx.src.calls != 0 {
		t.Fatal("a refused signature must not reach the namespace")
	}
}

func TestZipPathIsSafe(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a", "b.txt"}, "a/b.txt"},
		{[]string{"..", "etc", "passwd"}, "_/etc/passwd"},
		{[]string{"", "x"}, "_/x"},
		{[]string{"C:", "win.ini"}, "C_/win.ini"},
		{[]string{`a\..\..\b`}, `a_.._.._b`},
		{[]string{"line\nbreak"}, "line_break"},
		{nil, "_"},
	}
	for _, tt := range tests {
		if got := zipPath(tt.in); got != tt.want {
			t.Errorf("zipPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	seen := map[string]bool{}
	if a, b := uniqueName(seen, "x/a_b.txt", false), uniqueName(seen, "x/a_b.txt", false); a != "x/a_b.txt" || b != "x/a_b (2).txt" {
		t.Fatalf("collisions: %q, %q", a, b)
	}
}
