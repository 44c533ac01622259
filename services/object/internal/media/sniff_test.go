package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	small := testImage(8, 6)
	webpOpaque, err := os.ReadFile("testdata/opaque.webp")
	if err != nil {
		t.Fatal(err)
	}
	ftypLarge := cat(
		binary.BigEndian.AppendUint32(nil, 1), []byte("ftyp"),
		binary.BigEndian.AppendUint64(nil, 28), []byte("qt  \x00\x00\x00\x00qt  "),
	)
	ftypToEOF := cat([]byte{0, 0, 0, 0}, []byte("ftypmp42\x00\x00\x00\x00isommp42"))

	tests := []struct {
		name        string
		head        []byte
		kind        Kind
		format      string
		contentType string
	}{
		// Images, from the real encoders where Go has one.
		{"jpeg", encodeJPEG(t, small), KindImage, "jpeg", "image/jpeg"},
		{"png", encodePNG(t, small), KindImage, "png", "image/png"},
		{"gif89a", encodeGIF(t, small), KindImage, "gif", "image/gif"},
		{"gif87a", []byte("GIF87a\x08\x00\x06\x00\x00\x00\x00;"), KindImage, "gif", "image/gif"},
		{"bmp", encodeBMP(t, small), KindImage, "bmp", "image/bmp"},
		{"tiff little-endian", encodeTIFF(t, small), KindImage, "tiff", "image/tiff"},
		{"tiff big-endian", []byte("MM\x00*\x00\x00\x00\x08"), KindImage, "tiff", "image/tiff"},
		{"webp file", webpOpaque, KindImage, "webp", "image/webp"},
		{"webp header", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), KindImage, "webp", "image/webp"},
		{"heic", ftyp("heic", "mif1", "heic"), KindImage, "heic", "image/heic"},
		{"heix", ftyp("heix", "mif1"), KindImage, "heic", "image/heic"},
		{"heic sequence", ftyp("hevc", "msf1"), KindImage, "heic", "image/heic"},
		{"mif1 with heic", ftyp("mif1", "mif1", "heic"), KindImage, "heic", "image/heic"},
		{"mif1 with avif", ftyp("mif1", "avif", "mif1", "miaf"), KindImage, "avif", "image/avif"},
		{"mif1 alone", ftyp("mif1", "mif1"), KindImage, "heif", "image/heif"},
		{"msf1 alone", ftyp("msf1", "iso8"), KindImage, "heif", "image/heif"},
		{"avif", ftyp("avif", "avif", "mif1", "miaf", "MA1B"), KindImage, "avif", "image/avif"},
		{"avif sequence", ftyp("avis", "avis", "msf1"), KindImage, "avif", "image/avif"},
		{"ico", cat([]byte{0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0}, make([]byte, 8)), KindImage, "ico", "image/x-icon"},

		// Videos.
		{"mp4 isom", ftyp("isom", "isom", "iso2", "avc1", "mp41"), KindVideo, "mp4", "video/mp4"},
		{"mp4 mp42", ftyp("mp42", "mp42", "isom"), KindVideo, "mp4", "video/mp4"},
		{"mp4 iso5 dash", ftyp("iso5", "iso6", "dash"), KindVideo, "mp4", "video/mp4"},
		{"m4v", ftyp("M4V ", "M4V ", "M4A ", "mp42", "isom"), KindVideo, "mp4", "video/mp4"},
		{"avc1 major", ftyp("avc1", "isom"), KindVideo, "mp4", "video/mp4"},
		{"unknown major, mp4 compatible", ftyp("XYZ1", "XYZ1", "isom"), KindVideo, "mp4", "video/mp4"},
		{"mov", ftyp("qt  ", "qt  "), KindVideo, "mov", "video/quicktime"},
		{"mov 64-bit ftyp size", ftypLarge, KindVideo, "mov", "video/quicktime"},
		{"ftyp size 0 runs to end", ftypToEOF, KindVideo, "mp4", "video/mp4"},
		{"old quicktime moov", []byte("\x00\x00\x00\x6cmoov\x00\x00\x00\x6cmvhd"), KindVideo, "mov", "video/quicktime"},
		{"old quicktime wide", []byte("\x00\x00\x00\x08wide\x00\x01\x00\x00mdat"), KindVideo, "mov", "video/quicktime"},
		{"3gp4", ftyp("3gp4", "isom", "3gp4"), KindVideo, "3gp", "video/3gpp"},
		{"3gp5", ftyp("3gp5", "3gp5"), KindVideo, "3gp", "video/3gpp"},
		{"3gp6", ftyp("3gp6", "isom"), KindVideo, "3gp", "video/3gpp"},
		{"3g2a", ftyp("3g2a", "3g2a"), KindVideo, "3g2", "video/3gpp2"},
		{"webm", ebmlHeader("webm"), KindVideo, "webm", "video/webm"},
		{"matroska", ebmlHeader("matroska"), KindVideo, "mkv", "video/x-matroska"},
		{"ebml without doctype", ebmlHeader(""), KindVideo, "mkv", "video/x-matroska"},
		{"ebml truncated", sigEBML, KindVideo, "mkv", "video/x-matroska"},
		{"avi", []byte("RIFF\x00\x10\x00\x00AVI LIST"), KindVideo, "avi", "video/x-msvideo"},
		{"flv", []byte("FLV\x01\x05\x00\x00\x00\x09"), KindVideo, "flv", "video/x-flv"},
		{"mpeg-ts", syncPattern(512, 0, 188), KindVideo, "mpegts", "video/mp2t"},
		{"mpeg-ts two packets", syncPattern(300, 0, 188), KindVideo, "mpegts", "video/mp2t"},
		{"m2ts", syncPattern(512, 4, 192), KindVideo, "m2ts", "video/mp2t"},
		{"mpeg-ps", []byte{0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1}, KindVideo, "mpeg", "video/mpeg"},
		{"mpeg video es", []byte{0, 0, 1, 0xB3, 0x14, 0, 0xF0, 0x13}, KindVideo, "mpeg", "video/mpeg"},
		{"asf", cat(sigASF, make([]byte, 14)), KindVideo, "wmv", "video/x-ms-wmv"},
		{"ogg theora", cat([]byte("OggS\x00\x02"), make([]byte, 22), []byte("\x2a\x80theora\x03\x02")), KindVideo, "ogv", "video/ogg"},

		// Not media, whatever the file is called.
		{"text renamed .jpg", []byte("hello, this is plain text\n"), KindOther, "", "text/plain; charset=utf-8"},
		{"empty", nil, KindOther, "", "text/plain; charset=utf-8"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), KindOther, "", "application/pdf"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), KindOther, "", "application/zip"},
		{"m4a audio", ftyp("M4A ", "M4A ", "mp42", "isom"), KindOther, "m4a", "audio/mp4"},
		{"ogg vorbis", cat([]byte("OggS\x00\x02"), make([]byte, 22), []byte("\x1e\x01vorbis")), KindOther, "", "application/ogg"},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), KindOther, "", "audio/wave"},
		{"text starting BM", []byte("BMW owners club minutes, meeting of the 3rd\n"), KindOther, "", "application/octet-stream"},
		{"text starting G", []byte(strings.Repeat("Go go go. ", 60)), KindOther, "", "text/plain; charset=utf-8"},
		{"ftyp too short", []byte("\x00\x00\x00\x0cftypisom"), KindOther, "", "application/octet-stream"},
		{"ftyp unknown brands", ftyp("abcd", "efgh"), KindOther, "", "application/octet-stream"},
		{"ico with bad planes", cat([]byte{0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 9, 0}, make([]byte, 10)), KindOther, "", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sniff(tt.head)
			want := Sniffed{Kind: tt.kind, ContentType: tt.contentType, Format: tt.format}
			if got != want {
				t.Errorf("Sniff = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSniffIgnoresName pins the rule: a PNG called .mp4 is still an image, and the
// extension check then refuses it.
func TestSniffIgnoresName(t *testing.T) {
	s := Sniff(encodePNG(t, image.NewRGBA(image.Rect(0, 0, 2, 2))))
	if s.Kind != KindImage {
		t.Fatalf("Kind = %v, want image", s.Kind)
	}
	if err := Allowed(s.Kind, "clip.mp4", true, true, nil, nil); err == nil {
		t.Error("Allowed(png named clip.mp4) = nil, want ErrExtnameNotAllowed")
	}
}

// TestSniffReadsOnlySniffLen makes sure a long head is cut, so callers may pass a whole file.
func TestSniffReadsOnlySniffLen(t *testing.T) {
	head := cat(make([]byte, SniffLen), []byte("\x89PNG"))
	if got := Sniff(head); got.Kind != KindOther {
		t.Errorf("Sniff looked past SniffLen: %+v", got)
	}
	mp4 := cat(ftyp("isom", "isom"), bytes.Repeat([]byte{0xAB}, 4096))
	if got := Sniff(mp4); got.Format != "mp4" {
		t.Errorf("Sniff(long mp4) = %+v", got)
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindImage, "image"},
		{KindVideo, "video"},
		{KindOther, "other"},
		{Kind(42), "other"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.want)
		}
	}
}
