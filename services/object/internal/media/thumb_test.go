package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/url"
	"os"
	"testing"
)

func TestParseThumbOptions(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    ThumbOptions
		wantErr bool
	}{
		{"none", "preview", ThumbOptions{}, false},
		{"empty values ignored", "size=&scale=", ThumbOptions{}, false},
		{"size", "size=200", ThumbOptions{Size: 200}, false},
		{"scale", "scale=50", ThumbOptions{Scale: 50}, false},
		{"width", "width_size=300", ThumbOptions{Width: 300}, false},
		{"height", "height_size=200", ThumbOptions{Height: 200}, false},
		{"width and height", "width_size=300&height_size=200", ThumbOptions{Width: 300, Height: 200}, false},
		{"size wins", "size=100&scale=50&width_size=30", ThumbOptions{Size: 100}, false},
		{"scale wins over sides", "scale=50&height_size=30", ThumbOptions{Scale: 50}, false},
		{"bounds inclusive", "size=4096&scale=100", ThumbOptions{Size: 4096}, false},
		{"min bounds", "scale=1", ThumbOptions{Scale: 1}, false},
		{"other parameters ignored", "frame_number=2&purpose=list&history_id=7", ThumbOptions{}, false},
		{"size not a number", "size=abc", ThumbOptions{}, true},
		{"size zero", "size=0", ThumbOptions{}, true},
		{"size negative", "size=-1", ThumbOptions{}, true},
		{"size too big", "size=4097", ThumbOptions{}, true},
		{"scale zero", "scale=0", ThumbOptions{}, true},
		{"scale over 100", "scale=101", ThumbOptions{}, true},
		{"width fraction", "width_size=1.5", ThumbOptions{}, true},
		{"height overflow", "height_size=99999999999999999999", ThumbOptions{}, true},
		{"bad but shadowed", "size=100&scale=abc", ThumbOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseThumbOptions(q)
			if tt.wantErr {
				if !errors.Is(err, ErrBadThumbOptions) {
					t.Errorf("err = %v, want ErrBadThumbOptions", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseThumbOptions = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestThumbOptionsKey(t *testing.T) {
	tests := []struct {
		o        ThumbOptions
		key      string
		original bool
	}{
		{ThumbOptions{}, "orig", true},
		{ThumbOptions{Size: 200}, "s200", false},
		{ThumbOptions{Scale: 50}, "p50", false},
		{ThumbOptions{Width: 300}, "w300", false},
		{ThumbOptions{Height: 200}, "h200", false},
		{ThumbOptions{Width: 300, Height: 200}, "w300h200", false},
	}
	for _, tt := range tests {
		if got := tt.o.Key(); got != tt.key {
			t.Errorf("%+v.Key() = %q, want %q", tt.o, got, tt.key)
		}
		if got := tt.o.IsOriginal(); got != tt.original {
			t.Errorf("%+v.IsOriginal() = %v, want %v", tt.o, got, tt.original)
		}
	}
}

func TestThumbnailSizes(t *testing.T) {
	src := encodeJPEG(t, testImage(400, 300))
	tests := []struct {
		name string
		o    ThumbOptions
		w, h int
	}{
		{"size", ThumbOptions{Size: 100}, 100, 100},
		{"scale", ThumbOptions{Scale: 50}, 200, 150},
		{"scale 100", ThumbOptions{Scale: 100}, 400, 300},
		{"scale 1", ThumbOptions{Scale: 1}, 4, 3},
		{"width", ThumbOptions{Width: 100}, 100, 75},
		{"height", ThumbOptions{Height: 60}, 80, 60},
		{"box limited by width", ThumbOptions{Width: 100, Height: 100}, 100, 75},
		{"box limited by height", ThumbOptions{Width: 400, Height: 150}, 200, 150},
		{"size beyond original not upscaled", ThumbOptions{Size: 1000}, 300, 300},
		{"width beyond original not upscaled", ThumbOptions{Width: 1000}, 400, 300},
		{"height beyond original not upscaled", ThumbOptions{Height: 4096}, 400, 300},
		{"tiny width keeps one pixel", ThumbOptions{Width: 1}, 1, 1},
		{"no options re-encodes", ThumbOptions{}, 400, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			ct, err := Thumbnail(bytes.NewReader(src), tt.o, &out)
			if err != nil {
				t.Fatal(err)
			}
			if ct != "image/jpeg" {
				t.Errorf("content type = %q, want image/jpeg", ct)
			}
			cfg, err := jpeg.DecodeConfig(&out)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tt.w || cfg.Height != tt.h {
				t.Errorf("thumbnail is %dx%d, want %dx%d", cfg.Width, cfg.Height, tt.w, tt.h)
			}
		})
	}
}

// TestThumbnailCentreCrop checks that size crops the middle: a 4:3 source loses a strip on
// each side, so the quadrant colours still meet in the centre of the square. The large JPEG
// goes through the block-averaging pre-shrink, with partial blocks at the edges.
func TestThumbnailCentreCrop(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
	}{
		{"png", encodePNG(t, testImage(400, 300))},
		{"small jpeg", encodeJPEG(t, testImage(400, 300))},
		{"large jpeg", encodeJPEG(t, testImage(1201, 901))},
		{"large png", encodePNG(t, testImage(1201, 901))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := Thumbnail(bytes.NewReader(tt.src), ThumbOptions{Size: 100}, &out); err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(&out)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 100 {
				t.Fatalf("thumbnail is %v, want 100x100", b)
			}
			assertCorners(t, img, [4]color.RGBA{red, green, blue, yellow})
			// The seams must sit in the middle: sample just either side of the centre lines.
			assertColorAt(t, img, 47, 25, red)
			assertColorAt(t, img, 52, 25, green)
			assertColorAt(t, img, 25, 47, red)
			assertColorAt(t, img, 25, 52, blue)
		})
	}
}

func assertColorAt(t *testing.T, img image.Image, x, y int, want color.RGBA) {
	t.Helper()
	if got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); !near(got, want) {
		t.Errorf("pixel (%d,%d) = %v, want about %v", x, y, got, want)
	}
}

func TestThumbnailFormats(t *testing.T) {
	img := testImage(40, 30)
	transparent := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range transparent.Pix {
		transparent.Pix[i] = 0x80
	}
	webpOpaque, err := os.ReadFile("testdata/opaque.webp")
	if err != nil {
		t.Fatal(err)
	}
	webpAlpha, err := os.ReadFile("testdata/alpha.webp")
	if err != nil {
		t.Fatal(err)
	}
	largeTransparent := image.NewNRGBA(image.Rect(0, 0, 1200, 900))
	for i := range largeTransparent.Pix {
		largeTransparent.Pix[i] = 0x80
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 1200, 900))
	tests := []struct {
		name   string
		src    []byte
		wantCT string
	}{
		{"large transparent png", encodePNG(t, largeTransparent), "image/png"},
		{"large 16-bit grey png", encodePNG(t, gray16), "image/jpeg"},
		{"jpeg", encodeJPEG(t, img), "image/jpeg"},
		{"opaque png", encodePNG(t, img), "image/jpeg"},
		{"transparent png", encodePNG(t, transparent), "image/png"},
		{"gif", encodeGIF(t, img), "image/jpeg"},
		{"bmp", encodeBMP(t, img), "image/jpeg"},
		{"tiff", encodeTIFF(t, img), "image/jpeg"},
		{"lossless webp", webpOpaque, "image/jpeg"},
		{"webp with alpha", webpAlpha, "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			ct, err := Thumbnail(bytes.NewReader(tt.src), ThumbOptions{Width: 20}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if ct != tt.wantCT {
				t.Errorf("content type = %q, want %q", ct, tt.wantCT)
			}
			got, format, err := image.Decode(&out)
			if err != nil {
				t.Fatal(err)
			}
			if "image/"+format != ct {
				t.Errorf("wrote %s, announced %s", format, ct)
			}
			if b := got.Bounds(); b.Dx() != 20 || b.Dy() != 15 {
				t.Errorf("thumbnail is %v, want 20x15", b)
			}
			if ct == "image/png" {
				if _, _, _, a := got.At(10, 7).RGBA(); a == 0xFFFF || a == 0 {
					t.Errorf("alpha at the centre = %#x, want translucent", a)
				}
			}
		})
	}
}

func TestThumbnailOrientation(t *testing.T) {
	// Large enough for the block-averaging pre-shrink to run before the rotation.
	src := encodeJPEG(t, testImage(800, 600))
	// Displayed corner colours (top left, top right, bottom left, bottom right) for each EXIF
	// orientation of a stored image whose corners are red, green, blue, yellow.
	tests := []struct {
		orientation int
		corners     [4]color.RGBA
	}{
		{1, [4]color.RGBA{red, green, blue, yellow}},
		{2, [4]color.RGBA{green, red, yellow, blue}},
		{3, [4]color.RGBA{yellow, blue, green, red}},
		{4, [4]color.RGBA{blue, yellow, red, green}},
		{5, [4]color.RGBA{red, blue, green, yellow}},
		{6, [4]color.RGBA{blue, red, yellow, green}},
		{7, [4]color.RGBA{yellow, green, blue, red}},
		{8, [4]color.RGBA{green, yellow, red, blue}},
	}
	for _, tt := range tests {
		for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(fmt.Sprintf("%d/%s", tt.orientation, order), func(t *testing.T) {
				var out bytes.Buffer
				in := withEXIFOrientation(t, src, tt.orientation, order)
				if _, err := Thumbnail(bytes.NewReader(in), ThumbOptions{Width: 100}, &out); err != nil {
					t.Fatal(err)
				}
				img, err := jpeg.Decode(&out)
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantH := 100, 75
				if tt.orientation >= 5 {
					wantW, wantH = 100, 133 // displayed 600x800
				}
				if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
					t.Fatalf("orientation %d: thumbnail is %v, want %dx%d", tt.orientation, b, wantW, wantH)
				}
				assertCorners(t, img, tt.corners)
			})
		}
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	jpg := encodeJPEG(t, testImage(8, 8))
	tests := []struct {
		name string
		data []byte
	}{
		{"no exif", jpg},
		{"not a jpeg", []byte("hello")},
		{"truncated exif", withEXIFOrientation(t, jpg, 6, binary.BigEndian)[:20]},
		{"out of range value", withEXIFOrientation(t, jpg, 9, binary.BigEndian)},
		{"zero value", withEXIFOrientation(t, jpg, 0, binary.LittleEndian)},
		{"bad segment length", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}},
	}
	for _, tt := range tests {
		if got := jpegOrientation(tt.data); got != orientNormal {
			t.Errorf("%s: orientation = %d, want 1", tt.name, got)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestThumbnailRefusesBombBeforeDecoding(t *testing.T) {
	gifBomb := cat([]byte("GIF89a"), []byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0}, make([]byte, 1<<20))
	tests := []struct {
		name string
		data []byte
	}{
		{"png 50000x50000", pngHeader(50000, 50000, 1<<20)},
		{"png 10001x10000", pngHeader(10001, 10000, 1<<20)},
		{"gif 65535x65535", gifBomb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingReader{r: bytes.NewReader(tt.data)}
			_, err := Thumbnail(r, ThumbOptions{Size: 100}, io.Discard)
			if !errors.Is(err, ErrImageTooLarge) {
				t.Fatalf("err = %v, want ErrImageTooLarge", err)
			}
			if r.n > 64<<10 {
				t.Errorf("read %d bytes of a bomb; the header alone should do", r.n)
			}
		})
	}
}

func TestThumbnailErrors(t *testing.T) {
	jpg := encodeJPEG(t, testImage(400, 300))
	pngData := encodePNG(t, testImage(400, 300))
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"text", []byte("just some text"), ErrUnsupportedImage},
		{"empty", nil, ErrUnsupportedImage},
		{"heic", ftyp("heic", "mif1", "heic"), ErrUnsupportedImage},
		{"avif", ftyp("avif", "mif1"), ErrUnsupportedImage},
		{"video", ftyp("isom", "mp42"), ErrUnsupportedImage},
		{"truncated jpeg", jpg[:len(jpg)/2], ErrCorruptImage},
		{"truncated png", pngData[:len(pngData)/2], ErrCorruptImage},
		{"png header only", pngHeader(400, 300, 0), ErrCorruptImage},
		{"zero-size png", pngHeader(0, 0, 0), ErrCorruptImage},
		{"garbage after jpeg magic", cat(sigJPEG, bytes.Repeat([]byte{0x55}, 600)), ErrCorruptImage},
		{"broken webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00garbage"), ErrCorruptImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Thumbnail(bytes.NewReader(tt.data), ThumbOptions{Size: 100}, &out)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes on error", out.Len())
			}
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestThumbnailReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	if _, err := Thumbnail(failingReader{boom}, ThumbOptions{Size: 10}, io.Discard); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

// assertCorners samples each quadrant away from the edges and the JPEG-blurred seams.
func assertCorners(t *testing.T, img image.Image, want [4]color.RGBA) {
	t.Helper()
	b := img.Bounds()
	points := [4]image.Point{
		{b.Min.X + b.Dx()/5, b.Min.Y + b.Dy()/5},
		{b.Max.X - 1 - b.Dx()/5, b.Min.Y + b.Dy()/5},
		{b.Min.X + b.Dx()/5, b.Max.Y - 1 - b.Dy()/5},
		{b.Max.X - 1 - b.Dx()/5, b.Max.Y - 1 - b.Dy()/5},
	}
	names := [4]string{"top left", "top right", "bottom left", "bottom right"}
	for i, p := range points {
		if got := color.RGBAModel.Convert(img.At(p.X, p.Y)).(color.RGBA); !near(got, want[i]) {
			t.Errorf("%s = %v, want about %v", names[i], got, want[i])
		}
	}
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return x > y && x-y > 40 || y > x && y-x > 40 }
	return !d(a.R, b.R) && !d(a.G, b.G) && !d(a.B, b.B)
}

// BenchmarkThumbnail measures a phone-sized photo (12 MP) shrunk to a list thumbnail.
func BenchmarkThumbnail(b *testing.B) {
	var src bytes.Buffer
	if err := jpeg.Encode(&src, testImage(4000, 3000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Thumbnail(bytes.NewReader(src.Bytes()), ThumbOptions{Size: 200}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func TestThumbnailRejectsBadOptions(t *testing.T) {
	src := encodePNG(t, testImage(40, 30))
	for _, o := range []ThumbOptions{{Size: -1}, {Scale: 101}, {Width: MaxThumbSide + 1}, {Height: -5}} {
		if _, err := Thumbnail(bytes.NewReader(src), o, io.Discard); !errors.Is(err, ErrBadThumbOptions) {
			t.Errorf("Thumbnail(%+v) err = %v, want ErrBadThumbOptions", o, err)
		}
	}
}

func TestMean8(t *testing.T) {
	tests := []struct {
		sum, n uint64
		want   uint8
	}{
		{0, 1, 0},
		{0xFFFF, 1, 0xFF},
		{4 * 0xFFFF, 4, 0xFF},
		{0x8080, 1, 0x80},
		{0xFFFF + 0xFFFE, 2, 0xFF},
	}
	for _, tt := range tests {
		if got := mean8(tt.sum, tt.n); got != tt.want {
			t.Errorf("mean8(%#x, %d) = %#x, want %#x", tt.sum, tt.n, got, tt.want)
		}
	}
}
