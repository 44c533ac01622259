package store

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// prefixUpperBound answers the least string greater than every string that starts with prefix,
// in byte order (the order of both engines' name columns), so a prefix filter is an index range
// [prefix, upper): trailing utf8.MaxRune runes are dropped, then the last rune is incremented,
// skipping the surrogate gap. ok is false when there is no such bound (every rune maximal, or
// invalid UTF-8, which valid names never start with); the caller then filters with prefixFilter.
func prefixUpperBound(prefix string) (string, bool) {
	if !utf8.ValidString(prefix) {
		return "", false
	}
	runes := []rune(prefix)
	for len(runes) > 0 && runes[len(runes)-1] == utf8.MaxRune {
		runes = runes[:len(runes)-1]
	}
	if len(runes) == 0 {
		return "", false
	}
	next := runes[len(runes)-1] + 1
	if next >= 0xD800 && next <= 0xDFFF {
		next = 0xE000
	}
	runes[len(runes)-1] = next
	return string(runes), true
}

// prefixCondition answers the SQL condition (and its arguments) selecting values of col that
// start with prefix: an index range when prefixUpperBound has a bound, else a substr test.
func prefixCondition(col, prefix string) (string, []any) {
	if upper, ok := prefixUpperBound(prefix); ok {
		return col + " >= ? AND " + col + " < ?", []any{prefix, upper}
	}
	return col + " >= ? AND substr(" + col + ", 1, ?) = ?", []any{prefix, utf8.RuneCountInString(prefix), prefix}
}

// renamed answers the n-th alternative of a taken name (12.3): "name (n).ext" for files, the
// counter before the extension; "name (n)" for directories, which have no extension.
func renamed(name string, isDir bool, n int) string {
	suffix := " (" + strconv.Itoa(n) + ")"
	if isDir {
		return name + suffix
	}
	base, ext := splitExt(name)
	return base + suffix + ext
}

// splitExt splits "photo.jpg" into "photo" and ".jpg". A leading dot (".profile") or no dot is
// no extension.
func splitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}
