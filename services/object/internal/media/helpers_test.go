package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Corner colours of testImage, far enough apart to survive JPEG and resampling.
var (
	red    = color.RGBA{R: 255, A: 255}
	green  = color.RGBA{G: 255, A: 255}
	blue   = color.RGBA{B: 255, A: 255}
	yellow = color.RGBA{R: 255, G: 255, A: 255}
)

// testImage returns a w×h opaque image whose quadrants are red (top left), green (top right),
// blue (bottom left) and yellow (bottom right), so that tests can tell how it was turned.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeBMP(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeTIFF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tiff.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIFOrientation inserts an APP1 EXIF segment holding only the Orientation tag right after
// the SOI marker of a JPEG, as cameras do.
func withEXIFOrientation(t *testing.T, jpg []byte, o int, order binary.ByteOrder) []byte {
	t.Helper()
	var tiffHdr bytes.Buffer
	if order == binary.LittleEndian {
		tiffHdr.WriteString("II")
	} else {
		tiffHdr.WriteString("MM")
	}
	var field [8]byte
	order.PutUint16(field[0:], 42)
	order.PutUint32(field[2:], 8) // IFD0 right after the header
	order.PutUint16(field[6:], 1) // one entry
	tiffHdr.Write(field[:])
	var entry [12]byte
	order.PutUint16(entry[0:], 0x0112)
	order.PutUint16(entry[2:], 3) // SHORT
	order.PutUint32(entry[4:], 1)
	order.PutUint16(entry[8:], uint16(o))
	tiffHdr.Write(entry[:])
	tiffHdr.Write([]byte{0, 0, 0, 0}) // no next IFD

	payload := append([]byte("Exif\x00\x00"), tiffHdr.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)

	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader returns a PNG signature and an IHDR chunk declaring w×h 8-bit RGBA, with a valid
// CRC, followed by padding: enough for DecodeConfig, nothing to decode.
func pngHeader(w, h uint32, padding int) []byte {
	var b bytes.Buffer
	b.Write(sigPNG)
	data := make([]byte, 13)
	binary.BigEndian.PutUint32(data[0:], w)
	binary.BigEndian.PutUint32(data[4:], h)
	data[8], data[9] = 8, 6 // bit depth 8, colour type RGBA
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	chunk := append([]byte("IHDR"), data...)
	b.Write(chunk)
	binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(chunk))
	b.Write(n[:])
	b.Write(make([]byte, padding))
	return b.Bytes()
}

// ftyp returns an ISO-BMFF ftyp box followed by an empty mdat box.
func ftyp(major string, compatible ...string) []byte {
	size := 16 + 4*len(compatible)
	b := binary.BigEndian.AppendUint32(nil, uint32(size))
	b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
	for _, c := range compatible {
		b = append(b, c...)
	}
	return append(b, 0, 0, 0, 8, 'm', 'd', 'a', 't')
}

// ebmlHeader returns a Matroska EBML header element with the given DocType ("" for none).
func ebmlHeader(docType string) []byte {
	body := []byte{
		0x42, 0x86, 0x81, 0x01, // EBMLVersion 1
		0x42, 0xF7, 0x81, 0x01, // EBMLReadVersion 1
		0x42, 0xF2, 0x81, 0x04, // EBMLMaxIDLength 4
		0x42, 0xF3, 0x81, 0x08, // EBMLMaxSizeLength 8
	}
	if docType != "" {
		body = append(body, 0x42, 0x82, 0x80|byte(len(docType)))
		body = append(body, docType...)
	}
	body = append(body, 0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02)
	b := append([]byte{}, sigEBML...)
	b = append(b, 0x80|byte(len(body)))
	b = append(b, body...)
	return append(b, 0x18, 0x53, 0x80, 0x67, 0x01) // start of the Segment element
}

// syncPattern returns n zero bytes with 0x47 every stride bytes from first.
func syncPattern(n, first, stride int) []byte {
	b := make([]byte, n)
	for i := first; i < n; i += stride {
		b[i] = 0x47
	}
	return b
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
