package media

import (
	"fmt"

	"github.com/opensmh/opensmh/pkg/filetype"
)

// The name-based rules (extensions, default lists, renames) live in pkg/filetype, which the
// namespace service uses for the same checks, so that the two services cannot disagree about an
// extension. What this package adds is the content side: Sniff and Allowed.

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
	return fmt.Errorf("%w: %q for a %s", ErrExtnameNotAllowed, filetype.ExtOf(name), kind)
}
