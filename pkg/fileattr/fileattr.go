// Package fileattr holds the rules for what a client attaches to a file or directory: custom
// metadata (section 3, "Custom metadata"; 3.16 ?update; 4.1), labels and category (3.1, 3.4).
// The object service (begin, confirm) and the namespace service (commit, ?update, directory
// create) check with the same functions, so an input refused by one cannot enter through the
// other.
//
// Metadata comes back as response headers on download and HEAD (3.8, 3.10). A key outside the
// x-smh-meta- namespace would let a caller set Location, ETag or an x-smh-* header of ours on
// everybody's download, and a huge value makes the file unreadable to clients with a header line
// limit (curl, Python). Hence the rules, and HeaderPairs, which applies them again at output so a
// row stored before them (or written behind the API's back) cannot forge a header either.
package fileattr

import (
	"errors"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// ErrInvalid classifies every refusal of this package; each service maps it once, to 400
// ParamInvalid. The *smherr.Invalid around it says what was wrong.
var ErrInvalid = errors.New("invalid file attributes")

// Limits. MaxMetaBytes follows COS, which allows 2 KB of user metadata in all; labels follow the
// label filters of search (8.2: a label longer than 32 characters could never be searched);
// MaxCategoryBytes is 3.1's.
const (
	// MetaPrefix starts every metadata key, as the begin call's headers name them (section 3).
	MetaPrefix = "x-smh-meta-"
	// MaxMetaKeyBytes bounds one key, prefix included.
	MaxMetaKeyBytes = 128
	// MaxMetaBytes bounds the keys (prefix included) and values of one entry's metadata together.
	MaxMetaBytes = 2048
	// MaxLabels bounds the labels of one entry.
	MaxLabels = 32
	// MaxLabelChars bounds one label, in characters (labels are UTF-8 and never headers).
	MaxLabelChars = 32
	// MaxCategoryBytes bounds the category (3.1).
	MaxCategoryBytes = 16
)

func invalid(format string, args ...any) error {
	return smherr.Invalidf(ErrInvalid, format, args...)
}

// MetaKey answers the stored form of a metadata key a client wrote in JSON (?update, 4.1), or
// why it cannot be one: the key folded (FoldKey) and passing the key rule.
func MetaKey(raw string) (string, error) {
	key := FoldKey(raw)
	if err := checkKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// FoldKey lower-cases the ASCII letters of a metadata key: header names are case-insensitive and
// headers deliver keys lower-cased. Only ASCII is folded: Unicode folding would turn a look-alike
// such as the Kelvin sign into "k" and let two spellings meet in one header.
func FoldKey(raw string) string {
	b := []byte(raw)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// checkKey applies the key rule: the x-smh-meta- prefix, then 1 or more of [a-z0-9-], at most
// MaxMetaKeyBytes in all. "_" is left out on purpose: proxies that map "-" and "_" to the same
// CGI variable would let two keys pass for one, and some drop such request headers.
func checkKey(key string) error {
	if len(key) <= len(MetaPrefix) || key[:len(MetaPrefix)] != MetaPrefix {
		return invalid("metadata keys are %q followed by a name", MetaPrefix)
	}
	if len(key) > MaxMetaKeyBytes {
		return invalid("a metadata key is at most %d bytes", MaxMetaKeyBytes)
	}
	for i := len(MetaPrefix); i < len(key); i++ {
		if c := key[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return invalid("metadata key names use only a-z, 0-9 and \"-\"")
		}
	}
	return nil
}

// CheckValue applies the value rule to one metadata value: printable ASCII (space to "~"). No CR, LF, NUL or other
// control character can split or end a header line, and the value travels unchanged through
// HTTP/1.1, HTTP/2 and gRPC metadata, which takes no other bytes. Other text is stored
// percent-encoded by the client, as with COS user metadata.
func CheckValue(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return invalid("metadata values are printable ASCII; percent-encode other text")
		}
	}
	return nil
}

// CheckMeta checks a whole metadata map as it is to be stored: every key and value, and the
// MaxMetaBytes budget of keys and values together.
func CheckMeta(meta map[string]string) error {
	total := 0
	for k, v := range meta {
		if err := checkKey(k); err != nil {
			return err
		}
		if err := CheckValue(v); err != nil {
			return err
		}
		total += len(k) + len(v)
	}
	if total > MaxMetaBytes {
		return invalid("metadata keys and values are at most %d bytes in all", MaxMetaBytes)
	}
	return nil
}

// FromHeaders collects the x-smh-meta-* headers of a begin call (section 3) into the map to
// store, keys lower-cased, and checks it. A key given twice is refused: which value would be
// meant is a guess, and a proxy may have guessed differently.
func FromHeaders(h map[string][]string) (map[string]string, error) {
	var meta map[string]string
	for k, v := range h {
		if len(k) < len(MetaPrefix) || FoldKey(k[:len(MetaPrefix)]) != MetaPrefix {
			continue
		}
		key, err := MetaKey(k)
		if err != nil {
			return nil, err
		}
		if _, dup := meta[key]; dup || len(v) != 1 {
			return nil, invalid("metadata header %s is given more than once", key)
		}
		if meta == nil {
			meta = map[string]string{}
		}
		meta[key] = v[0]
	}
	return meta, CheckMeta(meta)
}

// HeaderPairs answers the stored metadata as response header pairs (key, value, key, value...):
// only pairs that pass the key and value rules, in key order, and no more than MaxMetaBytes of
// them, so every header is x-smh-meta-<name> and none can stand in for one the service sets.
// It is the output side of the rules, for rows older than them.
func HeaderPairs(meta map[string]string) []string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs []string
	total := 0
	for _, k := range keys {
		v := meta[k]
		if checkKey(k) != nil || CheckValue(v) != nil || total+len(k)+len(v) > MaxMetaBytes {
			continue
		}
		total += len(k) + len(v)
		pairs = append(pairs, k, v)
	}
	return pairs
}

// CheckLabels bounds labels: at most MaxLabels, each 1 to MaxLabelChars characters of valid
// UTF-8 without control characters.
func CheckLabels(labels []string) error {
	if len(labels) > MaxLabels {
		return invalid("at most %d labels", MaxLabels)
	}
	for _, l := range labels {
		if l == "" {
			return invalid("a label is not empty")
		}
		if utf8.RuneCountInString(l) > MaxLabelChars {
			return invalid("a label is at most %d characters", MaxLabelChars)
		}
		if err := checkText("a label", l); err != nil {
			return err
		}
	}
	return nil
}

// CheckCategory bounds a category: at most MaxCategoryBytes (3.1) of valid UTF-8 without
// control characters; "" is no category.
func CheckCategory(category string) error {
	if len(category) > MaxCategoryBytes {
		return invalid("category is at most %d bytes", MaxCategoryBytes)
	}
	return checkText("category", category)
}

// checkText refuses invalid UTF-8 and control characters (C0, DEL, C1), which no label or
// category needs and which would corrupt logs and listings that print them.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid("%s contains a control character", what)
		}
	}
	return nil
}

// Check checks the three attributes of an entry together (begin, confirm, commit).
func Check(meta map[string]string, labels []string, category string) error {
	if err := CheckMeta(meta); err != nil {
		return err
	}
	if err := CheckLabels(labels); err != nil {
		return err
	}
	return CheckCategory(category)
}
