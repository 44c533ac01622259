// Package archive reads the archives that zip preview and uncompress take (SMH API 3.17,
// docs/archives.md): zip (stored and deflate) through random access, tar and gzip-compressed tar
// as a stream. It never holds a whole archive or a whole entry in memory, and it bounds what an
// archive may make the reader do on the bytes actually read, not on what headers claim: the
// number of entries, each entry's size, the total size and the compression ratio.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format is a supported archive format.
type Format string

// Formats, judged by content (magic numbers), never by the file name.
const (
	Zip   Format = "zip"
	Tar   Format = "tar"
	TarGz Format = "tar.gz"
)

var (
	// ErrUnsupported: the bytes are not an archive this package reads (7z, rar, a plain gzip
	// file, anything else) or are too damaged to list.
	ErrUnsupported = errors.New("unsupported archive")
	// ErrTooManyEntries: the archive holds more entries than Limits.MaxEntries.
	ErrTooManyEntries = errors.New("archive holds too many entries")
	// ErrTooLarge: a stream archive is larger than Limits.MaxStreamSize, or its entries together
	// expand past Limits.MaxTotalSize.
	ErrTooLarge = errors.New("archive too large")
	// ErrEntryTooLarge: one entry expands past Limits.MaxEntrySize, or past Limits.MaxRatio
	// times the compressed bytes it was read from.
	ErrEntryTooLarge = errors.New("entry expands too far")
	// ErrEncrypted: the entry is encrypted; OpenSMH does not decrypt archives.
	ErrEncrypted = errors.New("entry is encrypted")
	// ErrCorrupt: the entry's bytes do not match its checksum or end early.
	ErrCorrupt = errors.New("entry is corrupt")
)

// Limits bound the work one archive may cause. Zero fields take the defaults.
type Limits struct {
	// MaxEntries bounds the entries of an archive (default 100,000).
	MaxEntries int
	// MaxEntrySize bounds the bytes one entry expands to (default 5 GiB, an upload's bound).
	MaxEntrySize int64
	// MaxTotalSize bounds the bytes all entries read expand to together (default 20 GiB).
	MaxTotalSize int64
	// MaxRatio bounds expanded bytes per compressed byte read (default 200) once an entry (a
	// gzip stream: the whole archive) has expanded past RatioFloor (default 1 MiB).
	MaxRatio   int64
	RatioFloor int64
	// MaxStreamSize bounds tar and tar.gz archives, which are read from the start for every
	// listing (default 128 MiB, as SMH).
	MaxStreamSize int64
}

// Defaults fills the zero fields of l.
func (l Limits) Defaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100_000
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = 5 << 30
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = 20 << 30
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 200
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = 1 << 20
	}
	if l.MaxStreamSize <= 0 {
		l.MaxStreamSize = 128 << 20
	}
	return l
}

// Kind is what an entry is.
type Kind int

// Entry kinds. Only files and directories are ever extracted (docs/archives.md).
const (
	KindFile Kind = iota
	KindDir
	KindSymlink
	KindOther // hard links, devices, fifos
)

// Entry is one entry of an archive as its header describes it.
type Entry struct {
	// Name is the entry's name as stored (a directory's ends with "/").
	Name      string
	Kind      Kind
	Size      int64 // the header's claim; the bytes read are bounded on their own
	Modified  time.Time
	Encrypted bool
}

// Detect answers the format of an archive from its first 512 bytes.
func Detect(head []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip, nil
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return TarGz, nil
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return Tar, nil
	}
	return "", ErrUnsupported
}

// Reader reads one archive.
type Reader struct {
	format Format
	r      io.ReaderAt
	size   int64
	lim    Limits
	zip    *zip.Reader
}

// Open reads the archive of size bytes behind r. Zip archives read their central directory
// now; tar archives are read on each List and Walk.
func Open(r io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	lim = lim.Defaults()
	head := make([]byte, 512)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	f, err := Detect(head[:n])
	if err != nil {
		return nil, err
	}
	a := &Reader{format: f, r: r, size: size, lim: lim}
	if f == Zip {
		z, err := zip.NewReader(r, size)
		if err != nil {
			if errors.Is(err, zip.ErrInsecurePath) && z != nil {
				// Names are judged per entry (CleanName); an unsafe one fails alone.
				err = nil
			} else {
				return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
			}
		}
		if len(z.File) > lim.MaxEntries {
			return nil, ErrTooManyEntries
		}
		a.zip = z
		return a, nil
	}
	if size > lim.MaxStreamSize {
		return nil, ErrTooLarge
	}
	return a, nil
}

// Format answers the archive's format.
func (a *Reader) Format() Format { return a.format }

// Concurrent reports whether Walk's open stays valid after fn returns and may be called from
// several goroutines at once (zip, whose entries sit at their own offsets); a tar stream's
// entries are read in order, during fn only.
func (a *Reader) Concurrent() bool { return a.format == Zip }

// List calls fn for every entry in archive order and answers how many there are. Listing a
// gzip-compressed tar expands it, so the total and ratio bounds apply.
func (a *Reader) List(fn func(Entry)) (int, error) {
	n := 0
	err := a.Walk(func(e Entry, _ func() (io.Reader, error)) error {
		n++
		fn(e)
		return nil
	})
	return n, err
}

// Walk calls fn for every entry in archive order. open answers the entry's bytes, bounded by
// the limits: a read past them fails with ErrEntryTooLarge or ErrTooLarge, a zip entry whose
// bytes miss its checksum with ErrCorrupt, an encrypted entry's open with ErrEncrypted. open is
// valid only during fn unless Concurrent. An error from fn stops the walk and is answered.
func (a *Reader) Walk(fn func(e Entry, open func() (io.Reader, error)) error) error {
	if a.format == Zip {
		return a.walkZip(fn)
	}
	return a.walkTar(fn)
}

func (a *Reader) walkZip(fn func(Entry, func() (io.Reader, error)) error) error {
	total := new(atomic.Int64)
	for _, f := range a.zip.File {
		e := Entry{Name: f.Name, Size: int64(min(f.UncompressedSize64, 1<<62)), Modified: f.Modified,
			Encrypted: f.Flags&0x1 != 0}
		switch m := f.Mode(); {
		case m&fs.ModeSymlink != 0:
			e.Kind = KindSymlink
		case m.IsDir() || strings.HasSuffix(f.Name, "/"):
			e.Kind = KindDir
		case m&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice|fs.ModeIrregular) != 0:
			e.Kind = KindOther
		}
		open := func() (io.Reader, error) {
			if e.Encrypted {
				return nil, ErrEncrypted
			}
			raw, err := f.OpenRaw()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			in := &counter{r: raw}
			var out io.Reader
			switch f.Method {
			case zip.Store:
				out = in
			case zip.Deflate:
				out = flate.NewReader(in)
			default:
				return nil, fmt.Errorf("%w: compression method %d", ErrUnsupported, f.Method)
			}
			return &bounded{r: out, in: in, lim: a.lim, total: total, crc: crc32.NewIEEE(), want: f.CRC32, check: true}, nil
		}
		if err := fn(e, open); err != nil {
			return err
		}
	}
	return nil
}

func (a *Reader) walkTar(fn func(Entry, func() (io.Reader, error)) error) error {
	in := &counter{r: bufio.NewReaderSize(io.NewSectionReader(a.r, 0, a.size), 64<<10)}
	var src io.Reader = in
	total := new(atomic.Int64)
	// A gzip stream is bounded as a whole: everything it expands to, headers and skipped
	// entries included, against the compressed bytes read so far.
	if a.format == TarGz {
		gz, err := gzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		defer gz.Close()
		src = &bounded{r: gz, in: in, lim: Limits{MaxEntrySize: a.lim.MaxTotalSize, MaxRatio: a.lim.MaxRatio, RatioFloor: a.lim.RatioFloor, MaxTotalSize: a.lim.MaxTotalSize}, total: new(atomic.Int64), stream: true}
	}
	tr := tar.NewReader(src)
	entries := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrEntryTooLarge) || errors.Is(err, ErrTooLarge) {
				return ErrTooLarge
			}
			if entries == 0 {
				return fmt.Errorf("%w: %w", ErrUnsupported, err)
			}
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if entries++; entries > a.lim.MaxEntries {
			return ErrTooManyEntries
		}
		e := Entry{Name: h.Name, Size: h.Size, Modified: h.ModTime}
		switch h.Typeflag {
		case tar.TypeReg: // tar.Reader already reports the legacy TypeRegA as TypeReg or TypeDir
		case tar.TypeDir:
			e.Kind = KindDir
		case tar.TypeSymlink:
			e.Kind = KindSymlink
		case tar.TypeXGlobalHeader:
			entries--
			continue
		default:
			e.Kind = KindOther
		}
		if e.Kind == KindDir && !strings.HasSuffix(e.Name, "/") {
			e.Name += "/"
		}
		open := func() (io.Reader, error) {
			// The tar layer stores, so the ratio is the gzip stream's (checked beneath).
			return &bounded{r: tr, lim: Limits{MaxEntrySize: a.lim.MaxEntrySize, MaxTotalSize: a.lim.MaxTotalSize}, total: total}, nil
		}
		if err := fn(e, open); err != nil {
			if errors.Is(err, ErrTooLarge) && a.format == TarGz {
				return ErrTooLarge
			}
			return err
		}
	}
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bounded passes an entry's expanded bytes through while they stay within the limits, judged on
// the bytes read: a header that understates a size or a ratio changes nothing.
type bounded struct {
	r     io.Reader
	in    *counter // compressed bytes read (nil: not compressed)
	lim   Limits
	total *atomic.Int64 // shared by the entries of one archive, which may be read at once
	n     int64

	crc   hash.Hash32 // nil: no checksum to verify
	want  uint32
	check bool
	// stream: the bounds cover a whole gzip stream rather than one entry.
	stream bool
}

func (b *bounded) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		total := b.total.Add(int64(n))
		if b.crc != nil {
			_, _ = b.crc.Write(p[:n])
		}
		switch {
		case b.lim.MaxTotalSize > 0 && total > b.lim.MaxTotalSize:
			return 0, ErrTooLarge
		case b.lim.MaxEntrySize > 0 && b.n > b.lim.MaxEntrySize:
			if b.stream {
				return 0, ErrTooLarge
			}
			return 0, ErrEntryTooLarge
		case b.in != nil && b.lim.MaxRatio > 0 && b.n > b.lim.RatioFloor && b.n > b.lim.MaxRatio*max(b.in.n, 1):
			if b.stream {
				return 0, ErrTooLarge
			}
			return 0, ErrEntryTooLarge
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		if b.check && b.crc.Sum32() != b.want {
			return n, ErrCorrupt
		}
	case err == nil, errors.Is(err, ErrEntryTooLarge), errors.Is(err, ErrTooLarge):
	default:
		// A truncated or malformed stream: the entry cannot be read whole.
		return n, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return n, err
}

// Why a name is refused (CleanName).
var (
	ErrUnsafeName = errors.New("entry name escapes the target or is not a valid name")
)

// CleanName answers an entry's name as path segments under the target, or ErrUnsafeName for a
// name that could escape it or that no file may bear: absolute paths, drive letters, "..",
// backslashes, NUL and other control characters, invalid UTF-8. "." and empty segments are
// dropped ("./a//b" is a/b). A directory's trailing "/" is not a segment.
func CleanName(name string) ([]string, error) {
	switch {
	case name == "", !utf8.ValidString(name), strings.HasPrefix(name, "/"), strings.ContainsRune(name, '\\'):
		return nil, ErrUnsafeName
	case len(name) >= 2 && name[1] == ':' && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z'):
		return nil, ErrUnsafeName
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return nil, ErrUnsafeName
		}
	}
	var segs []string
	for s := range strings.SplitSeq(name, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			return nil, ErrUnsafeName
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return nil, ErrUnsafeName
	}
	return segs, nil
}
