// Package datadir checks what the server leaves in its data dir (docs/security.md, section 8).
package datadir

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// CheckPrivate walks dir and reports (t.Errorf) every file below it that is not 0600 and every
// directory that is not 0700; symbolic links are passed over (their mode is not theirs). It
// answers how many entries it checked and the base names it met, so a caller can tell that the
// kinds of files it expects were there to be checked.
func CheckPrivate(t testing.TB, dir string) (checked int, names map[string]bool) {
	t.Helper()
	names = map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm() != want {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s: mode %04o, want %04o", rel, fi.Mode().Perm(), want)
		}
		names[d.Name()] = true
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checked, names
}
