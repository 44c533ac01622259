package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"hash/crc32"
	"io"
	"slices"
	"testing"
	"time"
)

type file struct {
	name string
	body []byte
}

func zipOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := w.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lyingZip holds one deflated entry whose headers claim claimed bytes while it expands to
// len(body).
func lyingZip(t testing.TB, name string, body []byte, claimed uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	_, _ = fw.Write(body)
	_ = fw.Close()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: claimed}
	raw, err := w.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.Write(comp.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarOf(t testing.TB, gz bool, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		out = zw
	}
	tw := tar.NewWriter(out)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
		if f.body == nil && len(f.name) > 0 && f.name[len(f.name)-1] == '/' {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(f.body)
	}
	_ = tw.WriteHeader(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		_ = zw.Close()
	}
	return buf.Bytes()
}

// readAll walks a and answers each entry's bytes or error.
func readAll(t *testing.T, a *Reader) (map[string][]byte, map[string]error, error) {
	t.Helper()
	got, fails := map[string][]byte{}, map[string]error{}
	err := a.Walk(func(e Entry, open func() (io.Reader, error)) error {
		if e.Kind != KindFile {
			return nil
		}
		r, err := open()
		if err == nil {
			var b []byte
			if b, err = io.ReadAll(r); err == nil {
				got[e.Name] = b
				return nil
			}
		}
		fails[e.Name] = err
		return nil
	})
	return got, fails, err
}

func TestFormatsRoundTrip(t *testing.T) {
	files := []file{{"top/", nil}, {"top/a.txt", []byte("alpha")}, {"top/sub/b.bin", bytes.Repeat([]byte{7}, 70000)}}
	for _, tt := range []struct {
		name string
		data []byte
		want Format
	}{
		{"zip", zipOf(t, files...), Zip},
		{"tar", tarOf(t, false, files...), Tar},
		{"tar.gz", tarOf(t, true, files...), TarGz},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Format() != tt.want {
				t.Fatalf("format %s, want %s", a.Format(), tt.want)
			}
			var names []string
			n, err := a.List(func(e Entry) { names = append(names, e.Name) })
			if err != nil {
				t.Fatal(err)
			}
			if n != len(names) || !slices.Contains(names, "top/") || !slices.Contains(names, "top/a.txt") {
				t.Fatalf("listed %d %q", n, names)
			}
			got, fails, err := readAll(t, a)
			if err != nil || len(fails) != 0 {
				t.Fatalf("walk: %v %v", err, fails)
			}
			if string(got["top/a.txt"]) != "alpha" || len(got["top/sub/b.bin"]) != 70000 {
				t.Fatalf("contents differ: %d entries", len(got))
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	gzPlain := func() []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte("just some text, not a tar"))
		_ = w.Close()
		return b.Bytes()
	}()
	for name, data := range map[string][]byte{
		"text":  []byte("hello"),
		"7z":    []byte("7z\xbc\xaf\x27\x1c\x00\x04"),
		"rar":   []byte("Rar!\x1a\x07\x01\x00"),
		"empty": nil,
		"gz":    gzPlain,
		"zip-truncated": func() []byte {
			z := zipOf(t, file{"a", []byte("a")})
			return z[:len(z)-10]
		}(),
	} {
		a, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
		if err == nil {
			_, err = a.List(func(Entry) {})
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

// TestBombsRefusedOnBytesRead: the bounds hold on what the bytes expand to, whatever the
// headers claim.
func TestBombsRefusedOnBytesRead(t *testing.T) {
	zeros := make([]byte, 4<<20)
	lim := Limits{MaxRatio: 50, RatioFloor: 64 << 10}

	// The header claims 10 bytes; the entry expands to 4 MiB at a ratio near 1000.
	bomb := lyingZip(t, "bomb.bin", zeros, 10)
	a, err := Open(bytes.NewReader(bomb), int64(len(bomb)), lim)
	if err != nil {
		t.Fatal(err)
	}
	_, fails, err := readAll(t, a)
	if err != nil || !errors.Is(fails["bomb.bin"], ErrEntryTooLarge) {
		t.Fatalf("ratio bomb: walk %v, entry %v", err, fails["bomb.bin"])
	}

	// Per-entry size, without a ratio to trip: stored bytes.
	stored := zipOf(t, file{"big", bytes.Repeat([]byte("x"), 1000)})
	a, _ = Open(bytes.NewReader(stored), int64(len(stored)), Limits{MaxEntrySize: 999})
	if _, fails, _ := readAll(t, a); !errors.Is(fails["big"], ErrEntryTooLarge) {
		t.Fatalf("entry size: %v", fails["big"])
	}

	// Total size over several entries.
	many := zipOf(t, file{"a", make([]byte, 600)}, file{"b", make([]byte, 600)})
	a, _ = Open(bytes.NewReader(many), int64(len(many)), Limits{MaxTotalSize: 1000, MaxRatio: 1 << 40})
	if _, fails, _ := readAll(t, a); !errors.Is(fails["b"], ErrTooLarge) {
		t.Fatalf("total size: %v", fails)
	}

	// Entry count.
	var fs []file
	for i := range 20 {
		fs = append(fs, file{name: string(rune('a'+i)) + ".txt"})
	}
	z := zipOf(t, fs...)
	if _, err := Open(bytes.NewReader(z), int64(len(z)), Limits{MaxEntries: 10}); !errors.Is(err, ErrTooManyEntries) {
		t.Fatalf("entry count: %v", err)
	}
	tz := tarOf(t, false, fs...)
	a, _ = Open(bytes.NewReader(tz), int64(len(tz)), Limits{MaxEntries: 10})
	if _, err := a.List(func(Entry) {}); !errors.Is(err, ErrTooManyEntries) {
		t.Fatalf("tar entry count: %v", err)
	}

	// A gzip stream is bounded as a whole, even while only listing.
	tgz := tarOf(t, true, file{"zeros", zeros})
	a, _ = Open(bytes.NewReader(tgz), int64(len(tgz)), lim)
	if _, err := a.List(func(Entry) {}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("tar.gz ratio: %v", err)
	}
	// A tar stream larger than MaxStreamSize is not read at all.
	if _, err := Open(bytes.NewReader(tgz), int64(len(tgz)), Limits{MaxStreamSize: 100}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("stream size: %v", err)
	}
}

func TestCorruptEntry(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	fw, _ := zw.CreateHeader(&zip.FileHeader{Name: "a.txt", Method: zip.Store})
	_, _ = fw.Write([]byte("hello hello hello"))
	_ = zw.Close()
	z := zb.Bytes()
	// Flip a byte of the stored data: the CRC catches it.
	i := bytes.Index(z, []byte("hello"))
	bad := bytes.Clone(z)
	bad[i] ^= 0xff
	a, err := Open(bytes.NewReader(bad), int64(len(bad)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, fails, _ := readAll(t, a); !errors.Is(fails["a.txt"], ErrCorrupt) {
		t.Fatalf("corrupt: %v", fails)
	}
}

func TestEncryptedAndSymlinks(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "secret.txt", Method: zip.Store, Flags: 0x1}
	fw, _ := w.CreateHeader(h)
	_, _ = fw.Write([]byte("xxxxxxxxxxxx"))
	lh := &zip.FileHeader{Name: "link"}
	lh.SetMode(0o777 | 1<<27) // fs.ModeSymlink
	lw, _ := w.CreateHeader(lh)
	_, _ = lw.Write([]byte("/etc/passwd"))
	_ = w.Close()
	a, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Entry{}
	_ = a.Walk(func(e Entry, open func() (io.Reader, error)) error {
		kinds[e.Name] = e
		if e.Encrypted {
			if _, err := open(); !errors.Is(err, ErrEncrypted) {
				t.Errorf("encrypted open: %v", err)
			}
		}
		return nil
	})
	if !kinds["secret.txt"].Encrypted || kinds["link"].Kind != KindSymlink {
		t.Fatalf("entries %+v", kinds)
	}
	tz := tarOf(t, false, file{"a", []byte("a")})
	a, _ = Open(bytes.NewReader(tz), int64(len(tz)), Limits{})
	var link Entry
	_, _ = a.List(func(e Entry) {
		if e.Name == "link" {
			link = e
		}
	})
	if link.Kind != KindSymlink {
		t.Fatalf("tar symlink kind %v", link.Kind)
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct {
		name string
		want []string
	}{
		{"a/b.txt", []string{"a", "b.txt"}},
		{"./a//b/", []string{"a", "b"}},
		{"目录/文件.txt", []string{"目录", "文件.txt"}},
		{"../evil", nil},
		{"a/../../evil", nil},
		{"/etc/passwd", nil},
		{`a\..\evil`, nil},
		{"C:/evil", nil},
		{"c:evil", nil},
		{"a\x00b", nil},
		{"a\nb", nil},
		{"\xff", nil},
		{"", nil},
		{"./", nil},
	} {
		got, err := CleanName(tt.name)
		if tt.want == nil {
			if !errors.Is(err, ErrUnsafeName) {
				t.Errorf("CleanName(%q) = %q, %v; want refused", tt.name, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
