package archive

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzArchive feeds arbitrary bytes to the listing and extraction code: nothing panics, every
// refusal is one of the package's errors or a short read, and no entry ever yields more bytes
// than the limits allow, whatever its header claims.
func FuzzArchive(f *testing.F) {
	f.Add(zipOf(f, file{"a/b.txt", []byte("hello")}, file{"../x", []byte("y")}))
	f.Add(lyingZip(f, "bomb", make([]byte, 300<<10), 3))
	f.Add(tarOf(f, false, file{"d/", nil}, file{"d/e", []byte("e")}))
	f.Add(tarOf(f, true, file{"z", make([]byte, 200<<10)}))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3})
	lim := Limits{MaxEntries: 50, MaxEntrySize: 256 << 10, MaxTotalSize: 1 << 20, MaxRatio: 20, RatioFloor: 16 << 10, MaxStreamSize: 1 << 20}
	known := []error{ErrUnsupported, ErrTooManyEntries, ErrTooLarge, ErrEntryTooLarge, ErrEncrypted, ErrCorrupt}
	isKnown := func(err error) bool {
		for _, k := range known {
			if errors.Is(err, k) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Open(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			if !isKnown(err) {
				t.Fatalf("open: unexpected error %v", err)
			}
			return
		}
		var total int64
		err = a.Walk(func(e Entry, open func() (io.Reader, error)) error {
			_, _ = CleanName(e.Name)
			if e.Kind != KindFile {
				return nil
			}
			r, err := open()
			if err != nil {
				return nil
			}
			n, _ := io.Copy(io.Discard, r)
			if n > lim.MaxEntrySize {
				t.Fatalf("entry %q yielded %d bytes, over the bound", e.Name, n)
			}
			total += n
			return nil
		})
		if err != nil && !isKnown(err) {
			t.Fatalf("walk: unexpected error %v", err)
		}
		if total > lim.MaxTotalSize {
			t.Fatalf("archive yielded %d bytes, over the bound", total)
		}
	})
}
