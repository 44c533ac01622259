package sqldb

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"strings"
)

// privateSQLiteFile makes the database file at path (sqliteFile of the name SQLite opens) exist
// with mode 0600 before SQLite opens it, and tightens an existing one and its journals. SQLite
// gives the -wal and -shm files it creates later the mode of the database file, so the whole
// database stays private to the server's user whatever the process umask (docs/security.md).
// In-memory databases have no file (path "").
func privateSQLiteFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return withoutPath(err)
	}
	if err := f.Close(); err != nil {
		return withoutPath(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return withoutPath(err)
		}
	}
	return nil
}

// sqliteFile answers the file path of a SQLite name: a path or a file: URI, without the query;
// "" for an in-memory database or a URI naming another host.
func sqliteFile(name string) string {
	path, query, _ := strings.Cut(name, "?")
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		if q, err := url.ParseQuery(query); err == nil && q.Get("mode") == "memory" {
			return ""
		}
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			// file://localhost/path or file:///path; another authority is not a local file.
			host, p, _ := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return ""
			}
			rest = "/" + p
		}
		unescaped, err := url.PathUnescape(rest)
		if err != nil {
			return ""
		}
		path = unescaped
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return ""
	}
	return path
}

// withoutPath keeps the DSN's path out of an error (Open never quotes the DSN).
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errors.New("sqldb: open sqlite: " + pe.Op + ": " + pe.Err.Error())
	}
	return err
}
