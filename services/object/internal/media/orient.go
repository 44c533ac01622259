package media

import (
	"bytes"
	"encoding/binary"
	"image"
)

// orientation is the EXIF Orientation tag (0x0112): how the stored pixels must be turned to
// stand upright. Phones store photos as the sensor saw them and set this tag instead of rotating,
// so a thumbnail that ignores it lies on its side.
type orientation int

const (
	orientNormal     orientation = 1
	orientFlipH      orientation = 2
	orientRotate180  orientation = 3
	orientFlipV      orientation = 4
	orientTranspose  orientation = 5
	orientRotate90   orientation = 6 // 90° clockwise
	orientTransverse orientation = 7
	orientRotate270  orientation = 8 // 90° counter-clockwise
)

// swapsAxes reports whether the displayed image has width and height swapped.
func (o orientation) swapsAxes() bool {
	return o >= orientTranspose && o <= orientRotate270
}

// apply returns img turned upright. It runs on the finished thumbnail, so its cost is small.
func (o orientation) apply(img *image.RGBA) *image.RGBA {
	if o <= orientNormal || o > orientRotate270 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o.swapsAxes() {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case orientFlipH:
				sx, sy = w-1-x, y
			case orientRotate180:
				sx, sy = w-1-x, h-1-y
			case orientFlipV:
				sx, sy = x, h-1-y
			case orientTranspose:
				sx, sy = y, x
			case orientRotate90:
				sx, sy = y, h-1-x
			case orientTransverse:
				sx, sy = w-1-y, h-1-x
			case orientRotate270:
				sx, sy = w-1-y, x
			}
			si := img.PixOffset(sx+img.Rect.Min.X, sy+img.Rect.Min.Y)
			di := dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}

var exifHeader = []byte("Exif\x00\x00")

// jpegOrientation finds the Orientation tag in a JPEG's EXIF (APP1) segment. It reads only the
// bytes given, which need to reach past the APP segments (image.DecodeConfig's reads do, since
// the frame header follows them), and answers orientNormal on anything unexpected: a wrong
// rotation is worse than none.
func jpegOrientation(b []byte) orientation {
	const (
		markerSOI  = 0xD8
		markerAPP1 = 0xE1
		markerSOS  = 0xDA
	)
	if len(b) < 4 || b[0] != 0xFF || b[1] != markerSOI {
		return orientNormal
	}
	pos := 2
	for pos+4 <= len(b) {
		if b[pos] != 0xFF {
			return orientNormal
		}
		marker := b[pos+1]
		if marker == 0xFF { // fill byte before a marker
			pos++
			continue
		}
		if marker == markerSOS || marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
			return orientNormal // frame or scan header: the APP segments are behind us
		}
		segLen := int(binary.BigEndian.Uint16(b[pos+2:]))
		if segLen < 2 {
			return orientNormal
		}
		end := min(pos+2+segLen, len(b))
		if marker == markerAPP1 && bytes.HasPrefix(b[pos+4:end], exifHeader) {
			return exifOrientation(b[pos+4+len(exifHeader) : end])
		}
		pos += 2 + segLen
	}
	return orientNormal
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF block.
func exifOrientation(t []byte) orientation {
	const (
		tagOrientation = 0x0112
		typeShort      = 3
		entryLen       = 12
	)
	if len(t) < 8 {
		return orientNormal
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return orientNormal
	}
	if order.Uint16(t[2:]) != 42 {
		return orientNormal
	}
	ifd := int(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return orientNormal
	}
	count := int(order.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + i*entryLen
		if e+entryLen > len(t) {
			return orientNormal
		}
		if order.Uint16(t[e:]) != tagOrientation {
			continue
		}
		if order.Uint16(t[e+2:]) != typeShort || order.Uint32(t[e+4:]) != 1 {
			return orientNormal
		}
		o := orientation(order.Uint16(t[e+8:]))
		if o < orientNormal || o > orientRotate270 {
			return orientNormal
		}
		return o
	}
	return orientNormal
}
