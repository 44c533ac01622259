// Package media holds what the object service needs to know about the bytes of a file: what they
// are (Sniff), whether a media library may keep them (Allowed; the rules by name are pkg/filetype), and how to draw a thumbnail or a video cover from them (Thumbnail,
// FFmpeg). It does no I/O of its own beyond the readers and writers it is handed and, for video
// covers, an optional ffmpeg process.
//
// SMH references (docs/api-sections.md): 2.11 and 2.1 for the media-library rules, 3.4 for the
// `type` field (`fileType` and `preview*` are pkg/filetype's Describe), 3.11 for thumbnail parameters, 4.8 for album covers.
package media

import "errors"

// Sentinel errors. The service maps them to SMH error codes: ErrNotMedia and
// ErrExtnameNotAllowed to 400 ExtnameNotAllowed (12.6 has no separate code for "not a photo or
// video"), ErrBadThumbOptions to 400 ParamInvalid. ErrUnsupportedImage, ErrImageTooLarge, ErrCorruptImage and ErrCoverFrame mean "no
// thumbnail": per 3.11 the caller then redirects to the original file.
var (
	// ErrNotMedia reports content that is neither an image nor a video.
	ErrNotMedia = errors.New("media: content is neither an image nor a video")
	// ErrExtnameNotAllowed reports a media kind the space does not accept, or a file extension
	// outside the space's whitelist for that kind.
	ErrExtnameNotAllowed = errors.New("media: extension not allowed")
	// ErrBadThumbOptions reports a thumbnail parameter that is not a number or is out of range.
	ErrBadThumbOptions = errors.New("media: bad thumbnail parameters")
	// ErrUnsupportedImage reports an image format that this package cannot decode (HEIC, AVIF,
	// ICO, ...), or content that is not an image at all.
	ErrUnsupportedImage = errors.New("media: unsupported image format")
	// ErrImageTooLarge reports an image whose declared dimensions exceed MaxImagePixels.
	ErrImageTooLarge = errors.New("media: image too large")
	// ErrCorruptImage reports an image that claims a supported format but does not decode.
	ErrCorruptImage = errors.New("media: corrupt image")
	// ErrFFmpegUnavailable reports a video cover request on a host without ffmpeg.
	ErrFFmpegUnavailable = errors.New("media: ffmpeg is not installed")
	// ErrCoverFrame reports that ffmpeg ran but produced no cover frame.
	ErrCoverFrame = errors.New("media: no cover frame")
)
