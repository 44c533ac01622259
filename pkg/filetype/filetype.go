// Package filetype answers what a file is by its name: its extension and the media kind that
// extension names by default. Media libraries take only images and videos (SMH API 2.11), and
// a rename there must keep the media type (3.14, FileTypeNotMatched); the namespace and the object
// service decide both from these lists, so the two never disagree.
//
// Names only: what the bytes are is the object service's content sniffing.
package filetype

import "strings"

// Kind is the media kind an extension names.
type Kind int

// Kinds. Other is anything that is not an image or a video by default.
const (
	Other Kind = iota
	Image
	Video
)

// String answers "other", "image" or "video" (the last two are SMH's entry types, 4.2).
func (k Kind) String() string {
	switch k {
	case Image:
		return "image"
	case Video:
		return "video"
	default:
		return "other"
	}
}

// ExtOf answers the extension of the last path segment of name, lower-cased and without the dot:
// "a/b/Photo.JPG" → "jpg", "a.tar.gz" → "gz". It answers "" when there is none: "README", "a.",
// and ".bashrc" (a leading dot marks a hidden file, not an extension, so a file named ".jpg" is
// not taken for a JPEG by its name).
func ExtOf(name string) string {
	name = name[strings.LastIndexByte(name, '/')+1:]
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}

// NormalizeExt turns an extension as SMH settings spell it (".JPG", "jpg", " .jpg") into the
// form ExtOf answers ("jpg"), so whitelists compare with names.
func NormalizeExt(ext string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(ext), "."))
}

// KindByExt answers the media kind an extension names by default (DefaultExts). ext may carry a
// leading dot and any case.
func KindByExt(ext string) Kind {
	switch NormalizeExt(ext) {
	case "jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "heif", "avif", "tif", "tiff":
		return Image
	case "mp4", "mov", "m4v", "3gp", "3g2", "webm", "mkv", "avi", "flv", "ts", "m2ts", "mts", "wmv",
		"asf", "mpg", "mpeg", "ogv":
		return Video
	default:
		return Other
	}
}

// DefaultExts lists the extensions (lower case, no dot) that KindByExt maps to kind: what a media
// library accepts for that kind when the space's whitelist is empty (2.1, "empty = decide by MIME
// of extension"). Other answers nil. The slice is the caller's.
func DefaultExts(kind Kind) []string {
	switch kind {
	case Image:
		return []string{"jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "heif", "avif", "tif", "tiff"}
	case Video:
		return []string{"mp4", "mov", "m4v", "3gp", "3g2", "webm", "mkv", "avi", "flv", "ts", "m2ts", "mts",
			"wmv", "asf", "mpg", "mpeg", "ogv"}
	default:
		return nil
	}
}

// KindOf answers the media kind of a file name by its extension.
func KindOf(name string) Kind { return KindByExt(ExtOf(name)) }

// SameMediaType reports whether a media-library file may be renamed from oldName to newName
// (3.14: otherwise 400 FileTypeNotMatched). Keeping the extension (in any case) is always fine,
// which also covers files a custom whitelist admitted under an extension KindByExt does not
// know. Otherwise both extensions must name the same media kind: image↔video and media→non-media
// renames are refused.
func SameMediaType(oldName, newName string) bool {
	oldExt, newExt := ExtOf(oldName), ExtOf(newName)
	if oldExt == newExt {
		return true
	}
	newKind := KindByExt(newExt)
	return newKind != Other && newKind == KindByExt(oldExt)
}

// InList reports whether name's extension is in a whitelist of extensions spelled as SMH
// settings spell them (".jpg", "JPG"). A name without an extension is in no list.
func InList(name string, list []string) bool {
	ext := ExtOf(name)
	if ext == "" {
		return false
	}
	for _, e := range list {
		if NormalizeExt(e) == ext {
			return true
		}
	}
	return false
}
