package media

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"

	"github.com/opensmh/opensmh/pkg/filetype"
)

// Kind is what a file's content is, as far as a media library cares (2.11, 3.4 `type`). It is
// pkg/filetype's Kind, so that a kind judged by content compares directly with the kind an
// extension names; its String gives "image", "video" or "other", the first two being the SMH
// `type` values of media-library entries.
type Kind = filetype.Kind

const (
	// KindOther is anything that is neither an image nor a video: a media library refuses it.
	KindOther = filetype.Other
	// KindImage is a still image (SMH `type` "image").
	KindImage = filetype.Image
	// KindVideo is a video (SMH `type` "video").
	KindVideo = filetype.Video
)

// SniffLen is how many leading bytes Sniff needs. 512 is what http.DetectContentType reads, and
// it covers the three packets an MPEG-TS check looks at (0, 188, 376) and a typical ftyp box.
const SniffLen = 512

// Sniffed is what Sniff found.
type Sniffed struct {
	// Kind is image, video or other.
	Kind Kind
	// ContentType is a MIME type such as "image/jpeg" or "video/mp4". For KindOther it is
	// http.DetectContentType's answer, except that it is never image/* or video/* (those become
	// application/octet-stream) and that formats recognised here get their own (for example
	// "audio/mp4" for an M4A file, which DetectContentType would call video).
	ContentType string
	// Format is a short format name ("jpeg", "mp4", "mkv", ...); empty when unknown.
	Format string
}

// Sniff tells images and videos apart by their magic bytes. The media-library rule is "judged by
// content, not by name or declared type" (2.11, 2.1 allowPhoto/allowVideo), so neither the
// file name nor the client's Content-Type is consulted. head should be the first SniffLen bytes
// of the file (fewer for a shorter file).
//
// Known limits, all from looking at headers only: audio-only Matroska (.mka) and ASF (.wma) files
// are reported as videos, because telling them apart needs the track list beyond the header.
// SVG is text, so it is KindOther: it can also carry scripts, which a photo library has no need
// to serve.
func Sniff(head []byte) Sniffed {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	for _, sniff := range sniffers {
		if s, ok := sniff(head); ok {
			return s
		}
	}
	ct := http.DetectContentType(head)
	if strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") {
		// DetectContentType trusts shorter signatures (any "BM" is a BMP to it). A content
		// type that calls rejected bytes an image would invite a caller to treat them as one.
		ct = "application/octet-stream"
	}
	return Sniffed{Kind: KindOther, ContentType: ct}
}

// sniffers run in order; the first match wins. Formats with long, specific signatures come first
// so that the weak ones (BMP's "BM", ICO's four bytes) cannot shadow them.
var sniffers = []func([]byte) (Sniffed, bool){
	sniffSimpleImage,
	sniffRIFF,
	sniffISOBMFF,
	sniffEBML,
	sniffSimpleVideo,
	sniffMPEGTS,
	sniffOgg,
	sniffBMP,
	sniffICO,
}

var (
	sigJPEG   = []byte{0xFF, 0xD8, 0xFF}
	sigPNG    = []byte("\x89PNG\r\n\x1a\n")
	sigGIF87a = []byte("GIF87a")
	sigGIF89a = []byte("GIF89a")
	sigTIFFLE = []byte("II*\x00")
	sigTIFFBE = []byte("MM\x00*")
	sigEBML   = []byte{0x1A, 0x45, 0xDF, 0xA3}
	sigFLV    = []byte("FLV\x01")
	sigMPEGPS = []byte{0x00, 0x00, 0x01, 0xBA}
	sigMPEGES = []byte{0x00, 0x00, 0x01, 0xB3} // MPEG-1/2 video sequence header
	sigASF    = []byte{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C}
	sigOgg    = []byte("OggS")
	sigTheora = []byte("\x80theora")
	sigICO    = []byte{0x00, 0x00, 0x01, 0x00}
)

const (
	tsSyncByte  = 0x47
	tsPacketLen = 188
)

func asImage(format, contentType string) Sniffed {
	return Sniffed{Kind: KindImage, ContentType: contentType, Format: format}
}

func asVideo(format, contentType string) Sniffed {
	return Sniffed{Kind: KindVideo, ContentType: contentType, Format: format}
}

func sniffSimpleImage(h []byte) (Sniffed, bool) {
	switch {
	case bytes.HasPrefix(h, sigJPEG):
		return asImage("jpeg", "image/jpeg"), true
	case bytes.HasPrefix(h, sigPNG):
		return asImage("png", "image/png"), true
	case bytes.HasPrefix(h, sigGIF87a), bytes.HasPrefix(h, sigGIF89a):
		return asImage("gif", "image/gif"), true
	case bytes.HasPrefix(h, sigTIFFLE), bytes.HasPrefix(h, sigTIFFBE):
		return asImage("tiff", "image/tiff"), true
	}
	return Sniffed{}, false
}

// sniffRIFF recognises the RIFF containers: "RIFF" <size> <form type>.
func sniffRIFF(h []byte) (Sniffed, bool) {
	if len(h) < 12 || string(h[:4]) != "RIFF" {
		return Sniffed{}, false
	}
	switch string(h[8:12]) {
	case "WEBP":
		return asImage("webp", "image/webp"), true
	case "AVI ":
		return asVideo("avi", "video/x-msvideo"), true
	}
	return Sniffed{}, false
}

// ISO base media file format brands (the four-character codes in the ftyp box). One container
// carries photos (HEIF, AVIF), videos (MP4, QuickTime, 3GPP) and plain audio (M4A), so the
// brands, not the box layout, decide the kind.
var (
	heicBrands = brandSet("heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs")
	// heifBrands are the format-neutral HEIF brands; a compatible brand then says HEIC or AVIF.
	heifBrands  = brandSet("mif1", "msf1", "mif2", "miaf")
	avifBrands  = brandSet("avif", "avis")
	movBrands   = brandSet("qt  ")
	audioBrands = brandSet("M4A ", "M4B ", "M4P ", "F4A ", "F4B ")
	mp4Brands   = brandSet("isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9",
		"mp41", "mp42", "mp71", "avc1", "dash", "M4V ", "M4VH", "M4VP", "f4v ", "mmp4", "MSNV",
		"NDAS", "XAVC")
)

func brandSet(brands ...string) map[string]bool {
	m := make(map[string]bool, len(brands))
	for _, b := range brands {
		m[b] = true
	}
	return m
}

// sniffISOBMFF reads the leading ftyp box: size (4), "ftyp", major brand (4), minor version (4),
// then compatible brands to the end of the box. Old QuickTime files have no ftyp and start with
// a moov, mdat, wide or pnot atom instead.
func sniffISOBMFF(h []byte) (Sniffed, bool) {
	if len(h) < 8 {
		return Sniffed{}, false
	}
	size := uint64(binary.BigEndian.Uint32(h))
	boxType := string(h[4:8])
	if boxType != "ftyp" {
		switch boxType {
		case "moov", "mdat", "wide", "pnot":
			if size >= 8 {
				return asVideo("mov", "video/quicktime"), true
			}
		}
		return Sniffed{}, false
	}
	start := 8 // first byte after the box header
	switch size {
	case 0: // the box runs to the end of the file
		size = uint64(len(h))
	case 1: // a 64-bit size follows the type
		if len(h) < 16 {
			return Sniffed{}, false
		}
		size = binary.BigEndian.Uint64(h[8:])
		start = 16
	}
	if size < uint64(start)+8 || len(h) < start+8 {
		return Sniffed{}, false // no room for major brand and minor version
	}
	end := len(h)
	if size < uint64(end) {
		end = int(size)
	}
	major := string(h[start : start+4])
	var compatible []string
	for off := start + 8; off+4 <= end; off += 4 {
		compatible = append(compatible, string(h[off:off+4]))
	}
	return classifyBrands(major, compatible)
}

func classifyBrands(major string, compatible []string) (Sniffed, bool) {
	if s, ok := imageBrand(major, compatible); ok {
		return s, true
	}
	if s, ok := videoBrand(major); ok {
		return s, true
	}
	if audioBrands[major] {
		return Sniffed{Kind: KindOther, ContentType: "audio/mp4", Format: "m4a"}, true
	}
	// An unknown major brand: fall back on what it claims to be compatible with, photos first
	// because HEIF files list generic ISO brands too.
	for _, b := range compatible {
		if s, ok := imageBrand(b, compatible); ok {
			return s, true
		}
	}
	for _, b := range compatible {
		if s, ok := videoBrand(b); ok {
			return s, true
		}
	}
	return Sniffed{}, false
}

func imageBrand(brand string, compatible []string) (Sniffed, bool) {
	switch {
	case avifBrands[brand]:
		return asImage("avif", "image/avif"), true
	case heicBrands[brand]:
		return asImage("heic", "image/heic"), true
	case heifBrands[brand]:
		for _, b := range compatible {
			if avifBrands[b] {
				return asImage("avif", "image/avif"), true
			}
		}
		for _, b := range compatible {
			if heicBrands[b] {
				return asImage("heic", "image/heic"), true
			}
		}
		return asImage("heif", "image/heif"), true
	}
	return Sniffed{}, false
}

func videoBrand(brand string) (Sniffed, bool) {
	switch {
	case movBrands[brand]:
		return asVideo("mov", "video/quicktime"), true
	case strings.HasPrefix(brand, "3g2"):
		return asVideo("3g2", "video/3gpp2"), true
	case strings.HasPrefix(brand, "3gp"), strings.HasPrefix(brand, "3ge"),
		strings.HasPrefix(brand, "3gg"), strings.HasPrefix(brand, "3gs"), strings.HasPrefix(brand, "3gr"):
		return asVideo("3gp", "video/3gpp"), true
	case mp4Brands[brand]:
		return asVideo("mp4", "video/mp4"), true
	}
	return Sniffed{}, false
}

// sniffEBML recognises Matroska and WebM: an EBML header element whose DocType child says
// "webm" or "matroska".
func sniffEBML(h []byte) (Sniffed, bool) {
	if !bytes.HasPrefix(h, sigEBML) {
		return Sniffed{}, false
	}
	if ebmlDocType(h) == "webm" {
		return asVideo("webm", "video/webm"), true
	}
	return asVideo("mkv", "video/x-matroska"), true
}

// ebmlDocType walks the children of the EBML header element for DocType (ID 0x4282). It returns
// "" when the header is truncated or malformed.
func ebmlDocType(h []byte) string {
	const docTypeID = 0x4282
	pos := len(sigEBML)
	size, n := ebmlVint(h[pos:], false)
	if n == 0 {
		return ""
	}
	pos += n
	end := len(h)
	if size < uint64(end-pos) {
		end = pos + int(size)
	}
	for pos < end {
		id, n := ebmlVint(h[pos:end], true)
		if n == 0 {
			return ""
		}
		pos += n
		size, n := ebmlVint(h[pos:end], false)
		if n == 0 {
			return ""
		}
		pos += n
		if size > uint64(end-pos) {
			return ""
		}
		if id == docTypeID {
			return string(bytes.TrimRight(h[pos:pos+int(size)], "\x00"))
		}
		pos += int(size)
	}
	return ""
}

// ebmlVint decodes an EBML variable-length integer: the count of leading zero bits of the first
// byte gives the length (1–8 bytes). Element IDs keep the length marker bit (keepMarker); sizes
// drop it. n is 0 when b is too short or the first byte is zero.
func ebmlVint(b []byte, keepMarker bool) (v uint64, n int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	n = 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0])
	if !keepMarker {
		v &= uint64(0xFF >> n)
	}
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

func sniffSimpleVideo(h []byte) (Sniffed, bool) {
	switch {
	case bytes.HasPrefix(h, sigFLV):
		return asVideo("flv", "video/x-flv"), true
	case bytes.HasPrefix(h, sigMPEGPS), bytes.HasPrefix(h, sigMPEGES):
		return asVideo("mpeg", "video/mpeg"), true
	case bytes.HasPrefix(h, sigASF):
		return asVideo("wmv", "video/x-ms-wmv"), true
	}
	return Sniffed{}, false
}

// sniffMPEGTS looks for the 0x47 sync byte at the start of consecutive 188-byte packets (plain
// transport stream) or of 192-byte packets after a 4-byte timestamp (Blu-ray M2TS). Two packets
// are required; a third is checked when the head is long enough, because a lone 0x47 is common.
func sniffMPEGTS(h []byte) (Sniffed, bool) {
	if syncAt(h, 0, tsPacketLen) {
		return asVideo("mpegts", "video/mp2t"), true
	}
	if syncAt(h, 4, tsPacketLen+4) {
		return asVideo("m2ts", "video/mp2t"), true
	}
	return Sniffed{}, false
}

func syncAt(h []byte, first, stride int) bool {
	if len(h) <= first+stride {
		return false
	}
	for off := first; off < len(h); off += stride {
		if h[off] != tsSyncByte {
			return false
		}
	}
	return true
}

// sniffOgg claims an Ogg stream only when its first page is a Theora video header; Vorbis and
// Opus audio stay KindOther.
func sniffOgg(h []byte) (Sniffed, bool) {
	if bytes.HasPrefix(h, sigOgg) && bytes.Contains(h, sigTheora) {
		return asVideo("ogv", "video/ogg"), true
	}
	return Sniffed{}, false
}

// sniffBMP checks more than "BM", which plain text can start with: the DIB header size at offset
// 14 must be one of the sizes the BMP versions define.
func sniffBMP(h []byte) (Sniffed, bool) {
	if len(h) < 18 || h[0] != 'B' || h[1] != 'M' {
		return Sniffed{}, false
	}
	switch binary.LittleEndian.Uint32(h[14:]) {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return asImage("bmp", "image/bmp"), true
	}
	return Sniffed{}, false
}

// sniffICO checks the icon directory: reserved 0, type 1, at least one image, and (when present)
// a first entry whose reserved byte is 0 and whose colour-plane count is 0 or 1.
func sniffICO(h []byte) (Sniffed, bool) {
	if len(h) < 6 || !bytes.HasPrefix(h, sigICO) || binary.LittleEndian.Uint16(h[4:]) == 0 {
		return Sniffed{}, false
	}
	if len(h) >= 22 && (h[9] != 0 || binary.LittleEndian.Uint16(h[10:]) > 1) {
		return Sniffed{}, false
	}
	return asImage("ico", "image/x-icon"), true
}
