package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tempDirName is where Local writes blobs before renaming them into place. It begins with '.', so
// no valid key can reach it.
const tempDirName = ".tmp"

// renameAttempts bounds how often Put recreates a parent directory that a concurrent Delete of the
// last blob in it removed between Put's mkdir and its rename.
const renameAttempts = 5

// Local stores blobs as files under a directory, one file per key at the key's path.
//
// Put is atomic and durable: it writes a temporary file, fsyncs it, renames it into place and
// fsyncs the directories it changed, so a crash leaves either the old blob, the new one, or a
// stray temporary file that CleanTemp removes. Replacing a blob does not disturb readers that
// already opened the old one.
//
// Unlike S3, a file system cannot hold both "a" and "a/b": Put of one of them fails while the
// other exists.
type Local struct {
	dir string
	tmp string
}

var _ Store = (*Local)(nil)

// NewLocal answers a store under dir, creating dir and its temporary directory if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local directory not set")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local directory %q: %w", dir, err)
	}
	tmp := filepath.Join(abs, tempDirName)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("blob: create local directory: %w", err)
	}
	return &Local{dir: abs, tmp: tmp}, nil
}

// Dir answers the directory the store keeps its blobs in.
func (l *Local) Dir() string { return l.dir }

func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, err
	}
	if size < -1 {
		return 0, fmt.Errorf("blob: put %q: invalid size %d", key, size)
	}
	if size >= 0 {
		r = newSizedReader(r, size)
	}
	tmp, err := os.CreateTemp(l.tmp, "put-*")
	if err != nil {
		return 0, fmt.Errorf("blob: put %q: %w", key, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close() // Already failing; the write error is the one worth reporting.
			_ = os.Remove(tmpName)
		}
	}()

	if size > 0 {
		// Reserving the blob's extent up front spares the file system allocating blocks write by
		// write: measured here, it and whole-block writes cut the kernel's CPU for a 1 GiB file
		// by half (docs/smallfiles.md). A file system without fallocate just allocates as it goes.
		_ = syscall.Fallocate(int(tmp.Fd()), 0, 0, size)
	}
	n, err := writeInBlocks(tmp, ctxReader{ctx: ctx, r: r})
	if err != nil {
		return 0, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("blob: put %q: sync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("blob: put %q: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := l.moveIntoPlace(tmpName, key); err != nil {
		return 0, fmt.Errorf("blob: put %q: %w", key, err)
	}
	renamed = true
	return n, nil
}

// writeBlock is how many bytes Put gathers from the body before each write(2): a network body
// arrives in frames of a few KiB, and writing each one costs a system call and the file system's
// bookkeeping per call.
const writeBlock = 1 << 20

var writeBlocks = sync.Pool{New: func() any { b := make([]byte, writeBlock); return &b }}

// writeInBlocks copies r to f to its end, each write but the last one writeBlock long.
func writeInBlocks(f *os.File, r io.Reader) (int64, error) {
	bp := writeBlocks.Get().(*[]byte)
	defer writeBlocks.Put(bp)
	buf := *bp
	var written int64
	for {
		var filled int
		var readErr error
		for filled < len(buf) && readErr == nil {
			var n int
			n, readErr = r.Read(buf[filled:])
			filled += n
		}
		if filled > 0 {
			if _, err := f.Write(buf[:filled]); err != nil {
				return written, err
			}
			written += int64(filled)
		}
		if readErr == io.EOF {
			return written, nil
		}
		if readErr != nil {
			return written, readErr
		}
	}
}

// moveIntoPlace renames the finished temporary file to the key's path, creating its parent
// directories, and fsyncs every directory whose entries changed so the blob survives a crash.
func (l *Local) moveIntoPlace(tmpName, key string) error {
	dst := l.path(key)
	parent := filepath.Dir(dst)
	for attempt := 1; ; attempt++ {
		err := l.mkdirDurable(parent)
		if err == nil {
			err = os.Rename(tmpName, dst)
		}
		if err == nil {
			break
		}
		// A concurrent Delete may have pruned a directory after it was made. Anything else, or
		// losing that race again and again, is a real failure.
		if !errors.Is(err, fs.ErrNotExist) || attempt == renameAttempts {
			return fmt.Errorf("move into place: %w", err)
		}
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	// The temporary directory lost an entry; without this a crash could resurrect the temporary
	// file, which CleanTemp would remove anyway, so it is only tidiness and errors are not fatal.
	_ = syncDir(l.tmp)
	return nil
}

// mkdirDurable creates dir and any missing parents below the store's root, fsyncing the parent of
// each directory it creates.
func (l *Local) mkdirDurable(dir string) error {
	rel, err := filepath.Rel(l.dir, dir)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	cur := l.dir
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, seg)
		err := os.Mkdir(next, 0o700)
		switch {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			// Existing file or directory; a file here surfaces as an error from the next step.
		default:
			return fmt.Errorf("create directory: %w", err)
		}
		cur = next
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}

// Open implements Store.
func (l *Local) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, notFound(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob: open %q: %w", key, notFound(err))
	}
	n, err := resolveRange(fi.Size(), offset, length)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	// The size is fixed at open: a Put replacing the blob renames a new file over the name, and this
	// descriptor keeps reading the old one.
	return &sectionFile{Reader: io.NewSectionReader(f, offset, n), f: f}, nil
}

type sectionFile struct {
	io.Reader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(l.path(key))
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist // A directory made for longer keys is not a blob.
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, notFound(err))
	}
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Store. It also removes parent directories the deletion left empty, up to but
// not including the store's root, so the tree does not fill with empty directories.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(key)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil // Not a blob, only a prefix of longer keys.
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	for dir := filepath.Dir(p); dir != l.dir; dir = filepath.Dir(dir) {
		// Removing a directory only succeeds while it is empty, so this never takes another
		// blob with it; a Put racing with it recreates the directory (see moveIntoPlace).
		if err := os.Remove(dir); err != nil {
			break
		}
	}
	return nil
}

// List implements Store.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	return l.list(ctx, l.dir, "", prefix, fn)
}

// list walks dir, whose keys start with dirKey ("" or ending in '/'), in key order. Sorting each
// directory by name with '/' appended to subdirectories gives byte-wise key order overall: "a-c"
// comes before "a/b" although "a" sorts before "a-c".
func (l *Local) list(ctx context.Context, dir, dirKey, prefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // Pruned by a concurrent Delete.
		}
		return fmt.Errorf("blob: list: %w", err)
	}
	type item struct {
		key   string
		isDir bool
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if ValidateKey(name) != nil {
			continue // Temporary and hidden files, and anything else not written by Put.
		}
		key := dirKey + name
		switch {
		case e.IsDir():
			key += "/"
			if !strings.HasPrefix(key, prefix) && !strings.HasPrefix(prefix, key) {
				continue
			}
			items = append(items, item{key: key, isDir: true})
		case e.Type().IsRegular():
			if strings.HasPrefix(key, prefix) {
				items = append(items, item{key: key})
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.key, b.key) })
	for _, it := range items {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(it.key, dirKey)))
		if it.isDir {
			if err := l.list(ctx, p, it.key, prefix, fn); err != nil {
				return err
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // Deleted since the directory was read.
			}
			return fmt.Errorf("blob: list: %w", err)
		}
		if err := fn(Info{Key: it.key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// CleanTemp removes temporary files that Put left behind when it crashed, if they were last
// written more than olderThan ago, and answers how many it removed. A Put in progress keeps its
// file's modification time fresh while data flows, so olderThan must exceed the longest time a
// Put may wait for its reader.
func (l *Local) CleanTemp(olderThan time.Duration) (int, error) {
	entries, err := os.ReadDir(l.tmp)
	if err != nil {
		return 0, fmt.Errorf("blob: clean temp: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	var errs []error
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !fi.ModTime().Before(cutoff) {
			continue
		}
		err = os.RemoveAll(filepath.Join(l.tmp, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("blob: clean temp: %w", err)
	}
	return removed, nil
}

// notFound maps a missing path, or a path through a file where a directory was expected, to
// ErrNotFound, keeping the cause in the chain.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// ctxReader stops a copy once ctx is done, so a cancelled Put does not keep writing.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
