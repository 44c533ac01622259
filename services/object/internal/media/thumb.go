package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/url"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

const (
	// MaxThumbSide bounds size, width_size and height_size (3.11 gives no limit; 4096 covers any
	// screen and keeps a request from asking for a huge output).
	MaxThumbSide = 4096
	// MaxImagePixels bounds the declared width × height of a source image. Decoding allocates
	// 4–8 bytes per pixel, so a small file declaring 50000×50000 (a decompression bomb) would
	// take gigabytes; it is refused from its header before any pixel is decoded.
	MaxImagePixels = 100_000_000
	// JPEGQuality is the quality of JPEG thumbnails.
	JPEGQuality = 85
)

// ThumbOptions are the image parameters of the preview endpoint (3.11) and the album cover
// (4.8). At most one mode applies, in the spec's order of precedence: Size, then Scale, then
// Width and/or Height. The zero value means "no thumbnail: serve the original".
type ThumbOptions struct {
	// Size is the side of a square centre crop (3.11 `size`; SMH's face-aware smart crop is not
	// implemented).
	Size int
	// Scale is a percentage of the original dimensions, 1–100 (3.11 `scale`).
	Scale int
	// Width and Height (3.11 `width_size`, `height_size`) bound one side with the other
	// proportional; when both are given the image is fitted inside Width×Height.
	Width, Height int
}

// ParseThumbOptions reads size, scale, width_size and height_size from a preview or cover
// request. Absent or empty parameters are ignored; a present one that is not an integer in range
// (sides 1..MaxThumbSide, scale 1..100) gives ErrBadThumbOptions, even when a parameter of higher
// precedence makes it moot, so that a typo is reported rather than silently ignored. Parameters
// that 3.11 lists but that do not change the picture here (frame_number, purpose, history_id)
// are the caller's business.
func ParseThumbOptions(q url.Values) (ThumbOptions, error) {
	var (
		o   ThumbOptions
		err error
	)
	for _, p := range []struct {
		name string
		max  int
		dst  *int
	}{
		{"size", MaxThumbSide, &o.Size},
		{"scale", 100, &o.Scale},
		{"width_size", MaxThumbSide, &o.Width},
		{"height_size", MaxThumbSide, &o.Height},
	} {
		if *p.dst, err = parseBounded(q.Get(p.name), p.max); err != nil {
			return ThumbOptions{}, fmt.Errorf("%w: %s: %w", ErrBadThumbOptions, p.name, err)
		}
	}
	switch {
	case o.Size != 0:
		o.Scale, o.Width, o.Height = 0, 0, 0
	case o.Scale != 0:
		o.Width, o.Height = 0, 0
	}
	return o, nil
}

var errOutOfRange = errors.New("out of range")

func parseBounded(s string, maxValue int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > maxValue {
		return 0, fmt.Errorf("%d %w 1..%d", n, errOutOfRange, maxValue)
	}
	return n, nil
}

// validate applies ParseThumbOptions' bounds to options built by hand.
func (o ThumbOptions) validate() error {
	for _, f := range []struct {
		name       string
		value, max int
	}{
		{"size", o.Size, MaxThumbSide},
		{"scale", o.Scale, 100},
		{"width_size", o.Width, MaxThumbSide},
		{"height_size", o.Height, MaxThumbSide},
	} {
		if f.value < 0 || f.value > f.max {
			return fmt.Errorf("%w: %s %d %w 0..%d", ErrBadThumbOptions, f.name, f.value, errOutOfRange, f.max)
		}
	}
	return nil
}

// Key returns a short stable string for the options, for use in a thumbnail cache key: "s200",
// "p50", "w300", "h200", "w300h200", or "orig" for the zero value.
func (o ThumbOptions) Key() string {
	switch {
	case o.Size != 0:
		return "s" + strconv.Itoa(o.Size)
	case o.Scale != 0:
		return "p" + strconv.Itoa(o.Scale)
	case o.Width != 0 && o.Height != 0:
		return "w" + strconv.Itoa(o.Width) + "h" + strconv.Itoa(o.Height)
	case o.Width != 0:
		return "w" + strconv.Itoa(o.Width)
	case o.Height != 0:
		return "h" + strconv.Itoa(o.Height)
	default:
		return "orig"
	}
}

// IsOriginal reports that no option was given: per 3.11 ("no size = original") the caller
// redirects to the original instead of calling Thumbnail.
func (o ThumbOptions) IsOriginal() bool {
	return o == ThumbOptions{}
}

// codec decodes one image format. Dispatching on Sniff's answer rather than on image.Decode's
// registry keeps the accepted formats explicit and independent of what other packages import.
type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	"jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"png":  {png.DecodeConfig, png.Decode},
	"gif":  {gif.DecodeConfig, gif.Decode}, // gif.Decode stops after the first frame
	"webp": {webp.DecodeConfig, webp.Decode},
	"bmp":  {bmp.DecodeConfig, bmp.Decode},
	"tiff": {tiff.DecodeConfig, tiff.Decode},
}

// Thumbnail reads an image from r and writes a thumbnail shaped by o to w, returning its content
// type. Supported sources: JPEG, PNG, GIF (first frame), WebP, BMP, TIFF; anything else,
// including HEIC and AVIF, which have no pure-Go decoder, gives ErrUnsupportedImage so the caller
// can redirect to the original (3.11: "non-previewable files: 302 to the normal download URL").
//
// The output is never larger than the source in either dimension. It is a JPEG (JPEGQuality)
// when the source is opaque and a PNG when the source has transparency, so that transparent
// logos and stickers keep it. A JPEG's EXIF orientation is applied, so the thumbnail stands the
// way the photo was taken; other formats' orientation tags are not read. The zero options
// re-encode the image at its full size.
func Thumbnail(r io.Reader, o ThumbOptions, w io.Writer) (contentType string, err error) {
	if err := o.validate(); err != nil {
		return "", err
	}
	// Everything read before decoding starts (the sniffed head and whatever DecodeConfig
	// consumed) is kept in seen and replayed to the decoder, since r cannot be rewound.
	var seen bytes.Buffer
	tee := io.TeeReader(r, &seen)
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(tee, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	sniffed := Sniff(head[:n])
	c, ok := codecs[sniffed.Format]
	if !ok || sniffed.Kind != KindImage {
		return "", fmt.Errorf("%w: %s", ErrUnsupportedImage, sniffed.ContentType)
	}

	cfg, err := c.config(io.MultiReader(bytes.NewReader(head[:n]), tee))
	if err != nil {
		return "", decodeError(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("%w: %dx%d", ErrCorruptImage, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return "", fmt.Errorf("%w: %dx%d", ErrImageTooLarge, cfg.Width, cfg.Height)
	}
	orientation := orientNormal
	if sniffed.Format == "jpeg" {
		orientation = jpegOrientation(seen.Bytes())
	}

	src, err := c.decode(io.MultiReader(bytes.NewReader(seen.Bytes()), r))
	if err != nil {
		return "", decodeError(err)
	}
	thumb := orientation.apply(resize(src, o, orientation.swapsAxes()))
	if isOpaque(src) {
		return "image/jpeg", jpeg.Encode(w, thumb, &jpeg.Options{Quality: JPEGQuality})
	}
	return "image/png", png.Encode(w, thumb)
}

// decodeError sorts decoder errors into "we cannot read this kind of file" and "this file is
// broken"; the standard decoders report the first with their own UnsupportedError types.
func decodeError(err error) error {
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
		tiffUnsupported tiff.UnsupportedError
	)
	switch {
	case errors.As(err, &jpegUnsupported), errors.As(err, &pngUnsupported),
		errors.As(err, &tiffUnsupported), errors.Is(err, bmp.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupportedImage, err)
	default:
		return fmt.Errorf("%w: %w", ErrCorruptImage, err)
	}
}

// isOpaque uses the Opaque method that every standard image type has; an image without one is
// treated as possibly transparent, which costs only a PNG instead of a JPEG.
func isOpaque(img image.Image) bool {
	o, ok := img.(interface{ Opaque() bool })
	return ok && o.Opaque()
}

// resize returns src cropped and scaled per o. The target is computed on the displayed
// dimensions (after EXIF rotation, hence swap) and mapped back, so that rotation can be applied
// to the small result instead of the full-size source.
func resize(src image.Image, o ThumbOptions, swap bool) *image.RGBA {
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	if swap {
		w, h = h, w
	}
	crop := image.Rect(0, 0, w, h) // in displayed coordinates
	dw, dh := targetSize(w, h, o)
	if o.Size != 0 {
		side := min(w, h)
		crop = image.Rect((w-side)/2, (h-side)/2, (w-side)/2+side, (h-side)/2+side)
	}
	if swap {
		crop = image.Rect(crop.Min.Y, crop.Min.X, crop.Max.Y, crop.Max.X)
		dw, dh = dh, dw
	}
	crop = crop.Add(sb.Min)

	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	if crop.Dx() == dw && crop.Dy() == dh {
		draw.Draw(dst, dst.Bounds(), src, crop.Min, draw.Src)
		return dst
	}
	// CatmullRom widens its kernel when shrinking, so large reductions stay free of aliasing,
	// but its cost grows with the reduction: a 12 MP photo shrunk to 200 px takes about half a
	// second on its own. Averaging whole blocks first (JPEGs decode to YCbCr) brings the
	// source down to at least twice the target for a fraction of that, and CatmullRom finishes.
	if k := min(crop.Dx()/dw, crop.Dy()/dh) / 2; k >= 2 {
		var shrunk *image.RGBA
		switch s := src.(type) {
		case *image.YCbCr:
			shrunk = boxShrinkYCbCr(s, crop, k)
		case image.RGBA64Image: // every other standard image type
			shrunk = boxShrinkRGBA64(s, crop, k)
		}
		if shrunk != nil {
			src, crop = shrunk, shrunk.Bounds()
		}
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)
	return dst
}

// boxShrinkRGBA64 is boxShrinkYCbCr for any image with RGBA64At. The values it averages are
// alpha-premultiplied, which is what keeps the edges of transparent areas from darkening.
func boxShrinkRGBA64(src image.RGBA64Image, r image.Rectangle, k int) *image.RGBA {
	dw, dh := (r.Dx()+k-1)/k, (r.Dy()+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for by := range dh {
		y0, y1 := r.Min.Y+by*k, min(r.Min.Y+(by+1)*k, r.Max.Y)
		for bx := range dw {
			x0, x1 := r.Min.X+bx*k, min(r.Min.X+(bx+1)*k, r.Max.X)
			var sr, sg, sb, sa, n uint64
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					c := src.RGBA64At(x, y)
					sr += uint64(c.R)
					sg += uint64(c.G)
					sb += uint64(c.B)
					sa += uint64(c.A)
					n++
				}
			}
			i := dst.PixOffset(bx, by)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = mean8(sr, n), mean8(sg, n), mean8(sb, n), mean8(sa, n)
		}
	}
	return dst
}

// boxShrinkYCbCr returns the rectangle r of src reduced k times in each direction, each output
// pixel the mean of a k×k block (fewer pixels at the right and bottom edges). Averaging in
// YCbCr and converting once per block equals averaging in RGB, the conversion being affine.
func boxShrinkYCbCr(src *image.YCbCr, r image.Rectangle, k int) *image.RGBA {
	dw, dh := (r.Dx()+k-1)/k, (r.Dy()+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for by := range dh {
		y0, y1 := r.Min.Y+by*k, min(r.Min.Y+(by+1)*k, r.Max.Y)
		for bx := range dw {
			x0, x1 := r.Min.X+bx*k, min(r.Min.X+(bx+1)*k, r.Max.X)
			var sy, scb, scr, n int
			for y := y0; y < y1; y++ {
				yi := src.YOffset(x0, y)
				for x := x0; x < x1; x++ {
					ci := src.COffset(x, y)
					sy += int(src.Y[yi])
					scb += int(src.Cb[ci])
					scr += int(src.Cr[ci])
					yi++
					n++
				}
			}
			red, green, blue := color.YCbCrToRGB(uint8((sy+n/2)/n), uint8((scb+n/2)/n), uint8((scr+n/2)/n))
			i := dst.PixOffset(bx, by)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = red, green, blue, 0xFF
		}
	}
	return dst
}

// mean8 turns a sum of n 16-bit samples into their mean on the 8-bit scale, rounded.
func mean8(sum, n uint64) uint8 {
	return uint8(((sum+n/2)/n*0xFF + 0x7FFF) / 0xFFFF)
}

// targetSize returns the output dimensions for a w×h source; it never exceeds w×h and never
// returns a zero side.
func targetSize(w, h int, o ThumbOptions) (int, int) {
	switch {
	case o.Size != 0:
		side := min(o.Size, w, h)
		return side, side
	case o.Scale != 0:
		return scaled(w, o.Scale, 100), scaled(h, o.Scale, 100)
	case o.Width != 0 && o.Height != 0:
		// Fit inside the box: the side with the smaller ratio decides.
		if int64(o.Width)*int64(h) <= int64(o.Height)*int64(w) {
			return fitSide(w, h, o.Width)
		}
		dh, dw := fitSide(h, w, o.Height)
		return dw, dh
	case o.Width != 0:
		return fitSide(w, h, o.Width)
	case o.Height != 0:
		dh, dw := fitSide(h, w, o.Height)
		return dw, dh
	default:
		return w, h
	}
}

// fitSide shrinks side a to at most limit and side b in proportion.
func fitSide(a, b, limit int) (int, int) {
	if limit >= a {
		return a, b
	}
	return limit, scaled(b, limit, a)
}

// scaled returns round(v × num / den), at least 1.
func scaled(v, num, den int) int {
	return max(1, int((int64(v)*int64(num)*2+int64(den))/(int64(den)*2)))
}
