package filetype

import "strings"

// SMH `fileType` values (3.4, 4.2). The spec names only "excel" and "powerpoint"; the rest are
// the values the official SDKs decode: the iOS SDK's QCloudSMHContentInfoType strings and the
// Flutter SDK's SMHFileType enum, which fails on a value it does not know. Hence "word" (not
// "doc") and "portable" for PDF.
const (
	FileTypeImage      = "image"
	FileTypeVideo      = "video"
	FileTypeAudio      = "audio"
	FileTypeWord       = "word"
	FileTypeExcel      = "excel"
	FileTypePowerPoint = "powerpoint"
	FileTypePDF        = "portable"
	FileTypeText       = "text"
	FileTypeArchive    = "archive"
	FileTypePSD        = "psd"
	FileTypeOther      = "other"
)

// Description is the part of an SMH file object (3.4, 3.9, 4.2) that follows from a file's name
// and content type.
type Description struct {
	// FileType is one of the FileType* constants.
	FileType string
	// PreviewByCI ("can be previewed through CI", SMH's image service) is true when the preview
	// endpoint (3.11) can draw a thumbnail: an image whose format Thumbnail decodes, or a video.
	// Video covers need ffmpeg: a caller without it (FFmpeg.Available) should clear the flag for
	// videos, since its preview endpoint then redirects to the video itself.
	PreviewByCI bool
	// PreviewByDoc ("can be previewed through the document service") is always false: OpenSMH
	// has no document preview service, so 3.11's document branch redirects to the download.
	PreviewByDoc bool
	// PreviewAsIcon is true when the preview image may stand in for the file's icon, which is
	// what the SDKs document for the field ("是否可用预览图当做 icon"). Here it equals
	// PreviewByCI: only files with a thumbnail have a preview image to show.
	PreviewAsIcon bool
}

// fileTypeByExt maps extensions (lower case, no dot) to SMH file types. Media extensions come
// from the default media lists so that the two never disagree; "ts" is a video there, not
// TypeScript, because a media library must accept .ts transport streams.
var fileTypeByExt = buildFileTypeByExt()

func buildFileTypeByExt() map[string]string {
	m := map[string]string{}
	add := func(fileType string, exts ...string) {
		for _, e := range exts {
			m[e] = fileType
		}
	}
	add(FileTypeImage, DefaultExts(Image)...)
	add(FileTypeImage, "jpe", "jfif", "svg", "ico", "jxl", "raw", "dng", "cr2", "cr3", "nef", "arw")
	add(FileTypeVideo, DefaultExts(Video)...)
	add(FileTypeVideo, "rm", "rmvb", "vob", "f4v", "mxf")
	add(FileTypeAudio, "mp3", "wav", "flac", "aac", "m4a", "ogg", "oga", "opus", "wma", "amr", "ape",
		"aiff", "aif", "mid", "midi")
	add(FileTypeWord, "doc", "docx", "docm", "dot", "dotx", "odt", "rtf", "wps", "pages")
	add(FileTypeExcel, "xls", "xlsx", "xlsm", "xlsb", "xlt", "xltx", "ods", "csv", "et", "numbers")
	add(FileTypePowerPoint, "ppt", "pptx", "pptm", "pps", "ppsx", "pot", "potx", "odp", "dps", "key")
	add(FileTypePDF, "pdf")
	add(FileTypeText, "txt", "text", "md", "markdown", "log", "json", "xml", "yaml", "yml", "toml",
		"ini", "conf", "cfg", "html", "htm", "css", "js", "go", "py", "java", "c", "h", "cpp", "sh",
		"sql")
	add(FileTypeArchive, "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst", "lz4")
	add(FileTypePSD, "psd")
	return m
}

// fileTypeByContentType maps exact MIME types; prefixes (image/, video/, ...) are handled in
// fileTypeOf.
var fileTypeByContentType = map[string]string{
	"image/vnd.adobe.photoshop": FileTypePSD,
	"application/pdf":           FileTypePDF,
	"application/msword":        FileTypeWord,
	"application/rtf":           FileTypeWord,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileTypeWord,
	"application/vnd.oasis.opendocument.text":                                 FileTypeWord,
	"application/vnd.ms-excel":                                                FileTypeExcel,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       FileTypeExcel,
	"application/vnd.oasis.opendocument.spreadsheet":                          FileTypeExcel,
	"text/csv":                      FileTypeExcel,
	"application/vnd.ms-powerpoint": FileTypePowerPoint,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": FileTypePowerPoint,
	"application/vnd.oasis.opendocument.presentation":                           FileTypePowerPoint,
	"application/json":             FileTypeText,
	"application/xml":              FileTypeText,
	"application/javascript":       FileTypeText,
	"application/zip":              FileTypeArchive,
	"application/x-gzip":           FileTypeArchive,
	"application/gzip":             FileTypeArchive,
	"application/x-rar-compressed": FileTypeArchive,
	"application/vnd.rar":          FileTypeArchive,
	"application/x-7z-compressed":  FileTypeArchive,
	"application/x-tar":            FileTypeArchive,
	"application/x-bzip2":          FileTypeArchive,
	"application/x-xz":             FileTypeArchive,
	"application/zstd":             FileTypeArchive,
	"application/ogg":              FileTypeAudio,
}

// thumbnailable lists what the object service's thumbnailer (services/object/internal/media
// Thumbnail) decodes, by extension and by content type; keep the two in step.
var (
	thumbnailableExt = map[string]bool{
		"jpg": true, "jpeg": true, "jpe": true, "jfif": true, "png": true, "gif": true, "bmp": true,
		"webp": true, "tif": true, "tiff": true,
	}
	thumbnailableContentType = map[string]bool{
		"image/jpeg": true, "image/png": true, "image/gif": true, "image/bmp": true,
		"image/webp": true, "image/tiff": true,
	}
)

// Describe derives `fileType` and the `preview*` flags (3.4) for any file, in a file library or a
// media library: the object service for file objects, the namespace for recycle-bin items
// (5.1), so that a file shows the same values in both. fileType comes from the extension first and from contentType when the
// extension is unknown. The preview flags trust a specific contentType over the name, because
// Thumbnail works on the bytes: a text file named .jpg gets fileType "image" but no preview.
// contentType may carry parameters ("text/plain; charset=utf-8") and may be empty.
func Describe(name, contentType string) Description {
	ext := ExtOf(name)
	ct := normalizeContentType(contentType)
	fileType := fileTypeOf(ext, ct)

	var byCI bool
	switch {
	case ct == "" || ct == "application/octet-stream":
		byCI = fileType == FileTypeVideo || fileType == FileTypeImage && thumbnailableExt[ext]
	case strings.HasPrefix(ct, "image/"):
		byCI = thumbnailableContentType[ct]
	case strings.HasPrefix(ct, "video/"):
		byCI = true
	}
	return Description{FileType: fileType, PreviewByCI: byCI, PreviewAsIcon: byCI}
}

func fileTypeOf(ext, ct string) string {
	if ft, ok := fileTypeByExt[ext]; ok {
		return ft
	}
	if ft, ok := fileTypeByContentType[ct]; ok {
		return ft
	}
	switch {
	case strings.HasPrefix(ct, "image/"):
		return FileTypeImage
	case strings.HasPrefix(ct, "video/"):
		return FileTypeVideo
	case strings.HasPrefix(ct, "audio/"):
		return FileTypeAudio
	case strings.HasPrefix(ct, "text/"):
		return FileTypeText
	}
	return FileTypeOther
}

func normalizeContentType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}
