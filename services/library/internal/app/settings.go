package app

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of docs/architecture.md, "The admin API" and SMH API section S.
const (
	maxNameChars              = 50
	maxRemarkChars            = 250
	maxAutoRemoveRecycledDays = 1095
	maxFileHistoryCount       = 999
	maxFileHistoryExpireDay   = 999
	maxDirFileNameLength      = 255
	// DefaultFileHistoryCount is the number of versions kept when a library enables history
	// without saying how many. Section S gives no default, only the range 1–999; 10 keeps a
	// useful history without letting a busy file's versions grow unnoticed.
	DefaultFileHistoryCount = 10
	// maxListItems and maxListItemChars bound the string lists, so one library record stays far
	// below etcd's request size limit (docs/architecture.md, "Three planes").
	maxListItems     = 1000
	maxListItemChars = 255
)

// Settings are a library's service-level settings (SMH API section S, docs/architecture.md, "The admin API"),
// always complete: the defaults are applied at creation.
type Settings struct {
	IsFileLibrary             bool // fixed at creation
	IsMultiSpace              bool // fixed at creation
	IsMultiAlbum              bool // fixed at creation
	IsPublicRead              bool
	AllowPhoto                bool
	AllowVideo                bool
	AllowPhotoExtname         []string
	AllowVideoExtname         []string
	AllowFileExtname          []string
	UseRecycleBin             bool
	AutoRemoveRecycledDays    uint32
	EnableSearch              bool
	EnableFileHistory         bool
	FileHistoryCount          uint32
	FileHistoryExpireDay      uint32
	MaxDirFileNameLength      uint32
	EnableQuota               bool // fixed at creation
	LibraryQuota              uint64
	DenyOnQuotaLessThanUsage  bool
	RecognizeSensitiveContent bool
	CORSAllowedOrigins        []string
	EnableFileUncompress      bool // 3.17 zip preview and uncompress (docs/archives.md)
}

// SettingsPatch carries the settings a request names; nil means absent. A non-nil pointer to an
// empty list clears the list.
type SettingsPatch struct {
	IsFileLibrary             *bool
	IsMultiSpace              *bool
	IsMultiAlbum              *bool
	IsPublicRead              *bool
	AllowPhoto                *bool
	AllowVideo                *bool
	AllowPhotoExtname         *[]string
	AllowVideoExtname         *[]string
	AllowFileExtname          *[]string
	UseRecycleBin             *bool
	AutoRemoveRecycledDays    *uint32
	EnableSearch              *bool
	EnableFileHistory         *bool
	FileHistoryCount          *uint32
	FileHistoryExpireDay      *uint32
	MaxDirFileNameLength      *uint32
	EnableQuota               *bool
	LibraryQuota              *uint64
	DenyOnQuotaLessThanUsage  *bool
	RecognizeSensitiveContent *bool
	CORSAllowedOrigins        *[]string
	EnableFileUncompress      *bool
}

// DefaultSettings answers the section S defaults for a file or media library. allowPhoto and
// allowVideo are true for media libraries (docs/architecture.md, "The admin API") and false for file libraries,
// where they mean nothing.
func DefaultSettings(isFileLibrary bool) Settings {
	return Settings{
		IsFileLibrary:        isFileLibrary,
		AllowPhoto:           !isFileLibrary,
		AllowVideo:           !isFileLibrary,
		AllowPhotoExtname:    []string{},
		AllowVideoExtname:    []string{},
		AllowFileExtname:     []string{},
		FileHistoryCount:     DefaultFileHistoryCount,
		MaxDirFileNameLength: maxDirFileNameLength,
		CORSAllowedOrigins:   []string{},
	}
}

// checkImmutable refuses a patch that changes a field fixed at creation. Sending the current
// value back is fine, so a console can return what it read (SMH API section S, "mutable: no").
func checkImmutable(cur Settings, p SettingsPatch) error {
	fixed := []struct {
		name  string
		patch *bool
		cur   bool
	}{
		{"isFileLibrary", p.IsFileLibrary, cur.IsFileLibrary},
		{"isMultiSpace", p.IsMultiSpace, cur.IsMultiSpace},
		{"isMultiAlbum", p.IsMultiAlbum, cur.IsMultiAlbum},
		{"enableQuota", p.EnableQuota, cur.EnableQuota},
	}
	for _, f := range fixed {
		if f.patch != nil && *f.patch != f.cur {
			return immutableField(f.name)
		}
	}
	return nil
}

// apply answers s with the fields present in p; s is not modified.
func (s Settings) apply(p SettingsPatch) Settings {
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setU32 := func(dst *uint32, v *uint32) {
		if v != nil {
			*dst = *v
		}
	}
	setList := func(dst *[]string, v *[]string) {
		if v != nil {
			*dst = append([]string{}, (*v)...)
		}
	}
	out := s
	// The lists are copied even when absent, so the result never shares storage with s.
	out.AllowPhotoExtname = append([]string{}, s.AllowPhotoExtname...)
	out.AllowVideoExtname = append([]string{}, s.AllowVideoExtname...)
	out.AllowFileExtname = append([]string{}, s.AllowFileExtname...)
	out.CORSAllowedOrigins = append([]string{}, s.CORSAllowedOrigins...)

	setBool(&out.IsFileLibrary, p.IsFileLibrary)
	setBool(&out.IsMultiSpace, p.IsMultiSpace)
	setBool(&out.IsMultiAlbum, p.IsMultiAlbum)
	setBool(&out.IsPublicRead, p.IsPublicRead)
	setBool(&out.AllowPhoto, p.AllowPhoto)
	setBool(&out.AllowVideo, p.AllowVideo)
	setList(&out.AllowPhotoExtname, p.AllowPhotoExtname)
	setList(&out.AllowVideoExtname, p.AllowVideoExtname)
	setList(&out.AllowFileExtname, p.AllowFileExtname)
	setBool(&out.UseRecycleBin, p.UseRecycleBin)
	setU32(&out.AutoRemoveRecycledDays, p.AutoRemoveRecycledDays)
	setBool(&out.EnableSearch, p.EnableSearch)
	setBool(&out.EnableFileHistory, p.EnableFileHistory)
	setU32(&out.FileHistoryCount, p.FileHistoryCount)
	setU32(&out.FileHistoryExpireDay, p.FileHistoryExpireDay)
	setU32(&out.MaxDirFileNameLength, p.MaxDirFileNameLength)
	setBool(&out.EnableQuota, p.EnableQuota)
	if p.LibraryQuota != nil {
		out.LibraryQuota = *p.LibraryQuota
	}
	setBool(&out.DenyOnQuotaLessThanUsage, p.DenyOnQuotaLessThanUsage)
	setBool(&out.RecognizeSensitiveContent, p.RecognizeSensitiveContent)
	setList(&out.CORSAllowedOrigins, p.CORSAllowedOrigins)
	setBool(&out.EnableFileUncompress, p.EnableFileUncompress)
	return out
}

// validate checks complete settings against section S and docs/architecture.md, "The admin API". Create and
// update both call it on the merged result, so the rules cannot drift apart. Origins are
// normalised (see normalizeOrigin), hence the returned copy.
func (s Settings) validate() (Settings, error) {
	switch {
	case s.IsMultiAlbum && (s.IsFileLibrary || s.IsMultiSpace):
		return s, invalidParam("isMultiAlbum is only for single-tenant media libraries")
	case s.IsPublicRead && s.IsMultiSpace:
		return s, invalidParam("isPublicRead is only for single-tenant libraries")
	case s.IsFileLibrary && s.AllowPhoto:
		return s, invalidParam("allowPhoto is only for media libraries")
	case s.IsFileLibrary && s.AllowVideo:
		return s, invalidParam("allowVideo is only for media libraries")
	case s.AutoRemoveRecycledDays > maxAutoRemoveRecycledDays:
		return s, invalidParam("autoRemoveRecycledDays must be between 0 and %d", maxAutoRemoveRecycledDays)
	case s.FileHistoryCount < 1 || s.FileHistoryCount > maxFileHistoryCount:
		return s, invalidParam("fileHistoryCount must be between 1 and %d", maxFileHistoryCount)
	case s.FileHistoryExpireDay > maxFileHistoryExpireDay:
		return s, invalidParam("fileHistoryExpireDay must be between 0 and %d", maxFileHistoryExpireDay)
	case s.MaxDirFileNameLength < 1 || s.MaxDirFileNameLength > maxDirFileNameLength:
		return s, invalidParam("maxDirFileNameLength must be between 1 and %d", maxDirFileNameLength)
	case s.EnableQuota && s.LibraryQuota == 0:
		return s, invalidParam("libraryQuota is required and must be positive when enableQuota is true")
	case !s.EnableQuota && s.LibraryQuota != 0:
		return s, invalidParam("libraryQuota needs enableQuota")
	}
	lists := []struct {
		name  string
		items []string
	}{
		{"allowPhotoExtname", s.AllowPhotoExtname},
		{"allowVideoExtname", s.AllowVideoExtname},
		{"allowFileExtname", s.AllowFileExtname},
		{"corsAllowedOrigins", s.CORSAllowedOrigins},
	}
	for _, l := range lists {
		if err := checkList(l.name, l.items); err != nil {
			return s, err
		}
	}
	origins := make([]string, len(s.CORSAllowedOrigins))
	for i, o := range s.CORSAllowedOrigins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return s, err
		}
		origins[i] = n
	}
	s.CORSAllowedOrigins = origins
	return s, nil
}

func checkList(name string, items []string) error {
	if len(items) > maxListItems {
		return invalidParam("%s has more than %d items", name, maxListItems)
	}
	for _, it := range items {
		if strings.TrimSpace(it) == "" || !utf8.ValidString(it) || utf8.RuneCountInString(it) > maxListItemChars {
			return invalidParam("%s items must be non-empty strings of at most %d characters", name, maxListItemChars)
		}
	}
	return nil
}

// normalizeOrigin accepts "*" or a browser origin: http or https, a host, an optional port, and
// nothing else (no path, query, fragment or user info). Scheme and host are lower-cased, because
// the gateway compares them with the Origin header, which browsers always send in lower case.
func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return o, nil
	}
	bad := invalidParam("corsAllowedOrigins item %q is not an origin like https://app.example.com or http://localhost:3000", o)
	u, err := url.Parse(o)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" || u.Hostname() == "" ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#") ||
		strings.HasSuffix(u.Host, ":") {
		return "", bad
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || !validHost(u.Hostname()) {
		return "", bad
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}

// validHost accepts an IP address or an ASCII host name (browsers send internationalised names in
// their punycode form). Wildcards such as *.example.com are not origins and are refused.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, c := range h {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return h != ""
}

// checkName enforces docs/architecture.md, "The admin API": 1–50 characters, required. The name is stored as
// given; a name of only white space is as good as missing, and control characters have no place
// in a name shown in consoles and listings.
func checkName(name string) error {
	if !utf8.ValidString(name) || strings.TrimSpace(name) == "" {
		return invalidParam("name is required")
	}
	if utf8.RuneCountInString(name) > maxNameChars {
		return invalidParam("name must be at most %d characters", maxNameChars)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return invalidParam("name must not contain control characters")
	}
	return nil
}

func checkRemark(remark string) error {
	if !utf8.ValidString(remark) || utf8.RuneCountInString(remark) > maxRemarkChars {
		return invalidParam("remark must be at most %d characters", maxRemarkChars)
	}
	return nil
}
