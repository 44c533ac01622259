package media

import (
	"fmt"

	"github.com/opensmh/opensmh/pkg/filetype"
)

// The name-based rules live in pkg/filetype, which the namespace service uses for the same
// checks; the functions here forward to it so that the two services cannot disagree about an
// extension. What this package adds is the content side: Sniff and Allowed.

// DefaultPhotoExts and DefaultVideoExts list the extensions a media library accepts when the
// space's whitelist for that kind is empty (2.1: "empty = decide by MIME of extension"), lower
// case and without the dot. Every one names a format that Sniff recognises as the same kind, so
// a file passes only when its name and its bytes agree. They are copies: changing them changes
// nothing in this package or in pkg/filetype.
var (
	DefaultPhotoExts = filetype.DefaultExts(filetype.Image)
	DefaultVideoExts = filetype.DefaultExts(filetype.Video)
)

// ExtOf returns the extension of the last path segment of name, lower-cased and without the dot:
// "a/b/Photo.JPG" → "jpg", "a.tar.gz" → "gz". It returns "" when there is none: "README", "a.",
// and ".bashrc" — a leading dot marks a hidden file, not an extension, so a file named ".jpg" is
// not taken for a JPEG by name (unlike path.Ext, which would return ".bashrc").
func ExtOf(name string) string {
	return filetype.ExtOf(name)
}

// KindByExt tells which media kind an extension names by default (DefaultPhotoExts,
// DefaultVideoExts). ext may carry a leading dot and any case.
func KindByExt(ext string) Kind {
	return filetype.KindByExt(ext)
}

// Allowed applies a media library's upload rule (2.1, 2.11; service-level AllowPhoto,
// AllowVideo, AllowPhotoExtName, AllowVideoExtName): the content, as sniffed, must be an image or a
// video (else ErrNotMedia); that kind must be enabled; and the name's extension must be in the
// space's whitelist for that kind, or, when the whitelist is empty, in the defaults for that kind
// (else ErrExtnameNotAllowed). Whitelist entries match case-insensitively, with or without the
// dot. Because the defaults of one kind never contain the other's extensions, a video named .jpg
// or a photo named .mp4 is refused even with empty whitelists.
func Allowed(kind Kind, name string, allowPhoto, allowVideo bool, photoExts, videoExts []string) error {
	var (
		enabled   bool
		whitelist []string
	)
	switch kind {
	case KindImage:
		enabled, whitelist = allowPhoto, photoExts
	case KindVideo:
		enabled, whitelist = allowVideo, videoExts
	default:
		return ErrNotMedia
	}
	if !enabled {
		return fmt.Errorf("%w: %ss are not allowed in this space", ErrExtnameNotAllowed, kind)
	}
	if len(whitelist) == 0 {
		if filetype.KindOf(name) == kind {
			return nil
		}
	} else if filetype.InList(name, whitelist) {
		return nil
	}
	return fmt.Errorf("%w: %q for a %s", ErrExtnameNotAllowed, ExtOf(name), kind)
}

// SameMediaType reports whether a media-library file may be renamed from oldName to newName
// (3.14: otherwise 400 FileTypeNotMatched). Keeping the extension (in any case) is always fine,
// which also covers files that a custom whitelist admitted under an extension unknown to
// KindByExt. Otherwise both extensions must name the same media kind: image↔video and
// media→non-media changes are refused. A caller enforcing a whitelist should also run Allowed
// with the stored kind on newName.
func SameMediaType(oldName, newName string) bool {
	return filetype.SameMediaType(oldName, newName)
}
