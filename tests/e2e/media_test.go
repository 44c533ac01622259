package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/testmedia"
)

// pngBytes encodes a w×h opaque PNG with a gradient (so that no encoder shortcut applies).
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, gradient(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegBytes encodes a w×h JPEG.
func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255})
		}
	}
	return img
}

// picture decodes an image the data endpoint served and answers its format and size.
func picture(t testing.TB, data []byte) (format string, size image.Point) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an image (%d bytes, %q...): %v", len(data), data[:min(len(data), 16)], err)
	}
	return format, image.Pt(cfg.Width, cfg.Height)
}

// fakeMP4 is the head of an ISO-BMFF file with an mp4 brand: a video by content, but nothing
// ffmpeg can draw a frame from.
func fakeMP4() []byte {
	head := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41\x00\x00\x00\x08free")
	return append(head, bytes.Repeat([]byte{0}, 512)...)
}

// realMP4 makes a one-second 64×48 video with ffmpeg, or answers nil when ffmpeg is not on PATH.
func realMP4(t testing.TB) []byte {
	t.Helper()
	path := testmedia.MP4(t)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mediaLibrary makes a single-tenant media library (plus ext) and an admin token for it.
func mediaLibrary(t *testing.T, s *system, ext map[string]any) fileAPI {
	t.Helper()
	if ext == nil {
		ext = map[string]any{}
	}
	ext["isFileLibrary"] = false
	lib := s.createLibrary("media", ext)
	token := s.mustMint(lib, q("", "grant", "admin", "user_id", "alice"))
	return fileAPI{s: s, lib: lib.ID, space: "-", token: token, library: lib}
}

// Media libraries (2.11, decision: content decides): what is uploaded, what is refused, and
// renames across media types, on every engine.
func TestMediaLibrary(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		f := mediaLibrary(t, s, map[string]any{"isMultiAlbum": true})
		f.dir().mkdirs(t, f.token, []string{"trip"})
		pic, photo := pngBytes(t, 300, 200), jpegBytes(t, 120, 90)

		for _, up := range []struct {
			name string
			data []byte
		}{{"trip/a.png", pic}, {"trip/b.jpg", photo}} {
			name := up.name
			s.fakeClock().Advance(time.Second)
			m := f.upload(name, up.data, nil)
			if m["type"] != "image" || m["fileType"] != "image" || m["previewByCI"] != true {
				t.Fatalf("%s: %v", name, m)
			}
			if h := f.do("HEAD", name, nil, nil).Header; h.Get("x-smh-type") != "image" {
				t.Fatalf("HEAD %s: %v", name, h)
			}
		}
		if ct := f.do("GET", "trip/b.jpg", q("", "info", ""), nil).JSON(t)["contentType"]; ct != "image/jpeg" {
			t.Fatalf("contentType %v", ct)
		}

		// Judged by content: text named .jpg, and a PNG named .mp4, are refused at confirm and
		// leave nothing visible; their bytes are garbage once the grace period is over.
		text := []byte("just some text, not a photo at all")
		for name, data := range map[string][]byte{"trip/fake.jpg": text, "trip/png.mp4": pic} {
			tk := f.begin(name, nil, nil)
			if r := f.send(tk, "", data); r.Status != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", name, r.Status, r.Body)
			}
			expectError(t, f.confirm(tk.ConfirmKey, nil, nil), http.StatusBadRequest, "ExtnameNotAllowed")
			if st := f.status("HEAD", name); st != http.StatusNotFound {
				t.Fatalf("HEAD %s after the refused confirm: %d", name, st)
			}
			// The refused upload is over.
			expectError(t, f.confirm(tk.ConfirmKey, nil, nil), http.StatusNotFound, "UploadNotFound")
		}
		// Media are listed by upload time (4.2).
		if names, _ := f.list("trip"); !slices.Equal(names, []string{"a.png", "b.jpg"}) {
			t.Fatalf("album after refused uploads: %v", names)
		}
		s.fakeClock().Advance(2 * time.Hour)
		s.collect()
		if keys := s.keysHolding("blobs/", text); len(keys) != 0 {
			t.Fatalf("the refused text is still stored under %v", keys)
		}
		f = f.as(s.mustMint(f.library, q("", "grant", "admin", "user_id", "alice")))

		// A name that promises no media type is refused at begin.
		expectError(t, f.do("PUT", "trip/notes.txt", nil, nil), http.StatusBadRequest, "ExtnameNotAllowed")
		expectError(t, f.do("POST", "trip/notes.txt", q("", "multipart", ""), nil), http.StatusBadRequest, "ExtnameNotAllowed")
		expectError(t, f.do("PUT", "trip/noext", nil, nil), http.StatusBadRequest, "ExtnameNotAllowed")
		// Multi-album: files live in albums, one level deep.
		expectError(t, f.do("PUT", "c.png", nil, nil), http.StatusBadRequest, "UploadToRootDirectoryNotAllowed")

		// Renames keep the media type (3.14).
		expectError(t, f.do("PUT", "trip/b.mp4", nil, map[string]any{"from": "trip/b.jpg"}), http.StatusBadRequest, "FileTypeNotMatched")
		expectError(t, f.do("PUT", "trip/b.txt", nil, map[string]any{"from": "trip/b.jpg"}), http.StatusBadRequest, "FileTypeNotMatched")
		expectError(t, f.do("PUT", "trip/b.mp4", nil, map[string]any{"copyFrom": "trip/b.jpg"}), http.StatusBadRequest, "FileTypeNotMatched")
		if r := f.do("PUT", "trip/b.jpeg", nil, map[string]any{"from": "trip/b.jpg"}); r.Status != http.StatusOK {
			t.Fatalf("rename within the type: %d %s", r.Status, r.Body)
		}
		if r := f.do("PUT", "trip/a.webp", nil, map[string]any{"from": "trip/a.png"}); r.Status != http.StatusOK {
			t.Fatalf("rename to another image extension: %d %s", r.Status, r.Body)
		}

		// Instant upload (decision 2) is judged by the stored content too.
		beginning, full := chainedHashes(pic)
		hashes := map[string]any{"beginningHash": beginning, "fullHash": full, "size": strconv.Itoa(len(pic))}
		if r := f.do("PUT", "trip/again.png", nil, hashes); r.Status != http.StatusOK || r.JSON(t)["type"] != "image" {
			t.Fatalf("instant upload of a picture: %d %s", r.Status, r.Body)
		}
		expectError(t, f.do("PUT", "trip/again.mp4", nil, hashes), http.StatusBadRequest, "ExtnameNotAllowed")
		if st := f.status("HEAD", "trip/again.mp4"); st != http.StatusNotFound {
			t.Fatalf("refused instant upload visible: %d", st)
		}

		// A single-album media library keeps its files at the root and has no albums.
		g := mediaLibrary(t, s, nil)
		if m := g.upload("root.png", pic, nil); m["type"] != "image" {
			t.Fatalf("root upload: %v", m)
		}
		expectError(t, g.do("PUT", "album/x.png", nil, nil), http.StatusBadRequest, "DirectoryNotAllowed")
		// Photos only: a video is refused at begin, by name.
		h := mediaLibrary(t, s, map[string]any{"allowVideo": false})
		expectError(t, h.do("PUT", "clip.mp4", nil, nil), http.StatusBadRequest, "ExtnameNotAllowed")
		// A photo whitelist: only PNG.
		w := mediaLibrary(t, s, map[string]any{"allowPhotoExtname": []string{"png"}})
		expectError(t, w.do("PUT", "p.jpg", nil, nil), http.StatusBadRequest, "ExtnameNotAllowed")
		if m := w.upload("p.png", pic, nil); m["type"] != "image" {
			t.Fatalf("whitelisted upload: %v", m)
		}
	})
}

// Previews (3.11): thumbnails by size, scale and one side, cached, and the original for what has
// no thumbnail.
func TestPreviews(t *testing.T) {
	s := startSystem(t)
	f := mediaLibrary(t, s, nil)
	f.upload("p.png", pngBytes(t, 300, 200), nil)

	tests := []struct {
		query url.Values
		want  image.Point
	}{
		{q("", "preview", "", "size", "100"), image.Pt(100, 100)},
		{q("", "preview", "1", "scale", "50"), image.Pt(150, 100)},
		{q("", "preview", "", "width_size", "120"), image.Pt(120, 80)},
		{q("", "preview", "", "height_size", "50"), image.Pt(75, 50)},
		{q("", "preview", "", "width_size", "60", "height_size", "60"), image.Pt(60, 40)},
		// size wins over scale; no upscaling.
		{q("", "preview", "", "size", "20", "scale", "50"), image.Pt(20, 20)},
		{q("", "preview", "", "width_size", "600"), image.Pt(300, 200)},
	}
	for _, tc := range tests {
		loc := f.redirect("p.png", tc.query)
		format, size := picture(t, s.fetch(loc))
		if size != tc.want || format != "jpeg" {
			t.Errorf("%v: %s %v, want jpeg %v", tc.query, format, size, tc.want)
		}
	}
	// A picture with transparency keeps it: a PNG thumbnail.
	g := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for i := range g.Pix {
		g.Pix[i] = uint8(i)
	}
	var alpha bytes.Buffer
	if err := png.Encode(&alpha, g); err != nil {
		t.Fatal(err)
	}
	f.upload("alpha.png", alpha.Bytes(), nil)
	r := s.raw("GET", f.redirect("alpha.png", q("", "preview", "", "size", "10")), nil, nil)
	if format, size := picture(t, r.Body); format != "png" || size != image.Pt(10, 10) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("transparent thumbnail: %s %v %s", format, size, r.Header.Get("Content-Type"))
	}
	if r := s.raw("GET", f.redirect("p.png", q("", "preview", "", "size", "100")), nil, nil); r.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail Content-Type %q", r.Header.Get("Content-Type"))
	}

	// The first request of a size stores its thumbnail; the second finds it.
	thumbs := len(s.storedObjects("thumbs/"))
	first := f.redirect("p.png", q("", "preview", "", "size", "77"))
	if n := len(s.storedObjects("thumbs/")); n != thumbs+1 {
		t.Fatalf("%d thumbnails stored, then %d after a new size", thumbs, n)
	}
	cached := s.storedObjects("thumbs/")
	second := f.redirect("p.png", q("", "preview", "", "size", "77"))
	if urlPath(t, first) != urlPath(t, second) {
		t.Fatalf("second preview at %s, first at %s", urlPath(t, second), urlPath(t, first))
	}
	if again := s.storedObjects("thumbs/"); len(again) != len(cached) {
		t.Fatalf("%d thumbnails stored, then %d after the same size again", len(cached), len(again))
	}
	if _, size := picture(t, s.fetch(second)); size != image.Pt(77, 77) {
		t.Fatalf("cached thumbnail %v", size)
	}
	// No size: the original (3.11).
	original := f.redirect("p.png", nil)
	if loc := f.redirect("p.png", q("", "preview", "")); urlPath(t, loc) != urlPath(t, original) {
		t.Fatalf("preview without a size at %s, the file at %s", urlPath(t, loc), urlPath(t, original))
	}
	for _, bad := range []url.Values{q("", "preview", "", "size", "0"), q("", "preview", "", "scale", "101"), q("", "preview", "", "width_size", "x")} {
		expectError(t, f.do("GET", "p.png", bad, nil), http.StatusBadRequest, "ParamInvalid")
	}
	expectError(t, f.do("GET", "none.png", q("", "preview", "", "size", "10"), nil), http.StatusNotFound, "FileNotFound")

	// A file that is no picture (in a file library) redirects to itself.
	fl := fileLibrary(t, s, nil)
	fl.upload("doc.txt", []byte("a document"), nil)
	fl.upload("fake.png", []byte("not a png at all"), nil)
	for _, name := range []string{"doc.txt", "fake.png"} {
		original := fl.redirect(name, nil)
		loc := fl.redirect(name, q("", "preview", "", "size", "100"))
		if urlPath(t, loc) != urlPath(t, original) {
			t.Fatalf("preview of %s at %s, the file at %s", name, urlPath(t, loc), urlPath(t, original))
		}
		if got := s.fetch(loc); !bytes.Equal(got, s.fetch(original)) {
			t.Fatalf("preview of %s served other bytes", name)
		}
	}
	// An image in a file library has thumbnails too.
	fl.upload("pic.jpg", jpegBytes(t, 80, 60), nil)
	if _, size := picture(t, s.fetch(fl.redirect("pic.jpg", q("", "preview", "", "size", "30")))); size != image.Pt(30, 30) {
		t.Fatalf("file-library thumbnail %v", size)
	}
}

// Album covers (4.8) in media libraries, on every engine.
func TestAlbumCovers(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		f := mediaLibrary(t, s, map[string]any{"isMultiAlbum": true})
		f.dir().mkdirs(t, f.token, []string{"trip", "empty"})
		f.upload("trip/first.png", pngBytes(t, 300, 200), nil)
		s.fakeClock().Advance(time.Second)
		f.upload("trip/second.jpg", jpegBytes(t, 100, 100), nil)
		cover := func(api fileAPI, album string, qq url.Values) response {
			t.Helper()
			p := "/api/v1/album/" + api.lib + "/" + api.space + "/cover"
			if album != "" {
				p += "/" + url.PathEscape(album)
			}
			return s.call("GET", p, api.query(qq), nil, nil)
		}

		r := cover(f, "trip", q("", "size", "64"))
		if r.Status != http.StatusFound {
			t.Fatalf("cover: %d %s", r.Status, r.Body)
		}
		loc := r.Header.Get("Location")
		if thumb := f.redirect("trip/first.png", q("", "preview", "", "size", "64")); urlPath(t, loc) != urlPath(t, thumb) {
			t.Fatalf("cover at %s, the first image's thumbnail at %s", urlPath(t, loc), urlPath(t, thumb))
		}
		if _, size := picture(t, s.fetch(loc)); size != image.Pt(64, 64) {
			t.Fatalf("cover size %v", size)
		}
		// Without a size: the first image itself.
		if r := cover(f, "trip", nil); r.Status != http.StatusFound || urlPath(t, r.Header.Get("Location")) != urlPath(t, f.redirect("trip/first.png", nil)) {
			t.Fatalf("cover without size: %d %v", r.Status, r.Header.Get("Location"))
		}
		expectError(t, cover(f, "", q("", "size", "64")), http.StatusBadRequest, "CoverNotSupportedInRootDirectory")
		expectError(t, cover(f, "empty", q("", "size", "64")), http.StatusNotFound, "FileNotFound")
		if r := cover(f, "nope", q("", "size", "64")); r.Status != http.StatusNotFound {
			t.Fatalf("cover of a missing album: %d %s", r.Status, r.Body)
		}
		expectError(t, cover(f, "trip", q("", "size", "0")), http.StatusBadRequest, "ParamInvalid")
		expectError(t, cover(f.as(""), "trip", nil), http.StatusBadRequest, "EmptyAccessToken")
		// Deleting the first image makes the next one the cover.
		if st := f.status("DELETE", "trip/first.png"); st != http.StatusNoContent {
			t.Fatalf("delete: %d", st)
		}
		if r := cover(f, "trip", nil); r.Status != http.StatusFound || urlPath(t, r.Header.Get("Location")) != urlPath(t, f.redirect("trip/second.jpg", nil)) {
			t.Fatalf("cover after the first image went: %d %v", r.Status, r.Header.Get("Location"))
		}

		// A library without albums has one cover, of its root, and takes no album name.
		g := mediaLibrary(t, s, nil)
		g.upload("only.png", pngBytes(t, 40, 40), nil)
		if r := cover(g, "", q("", "size", "16")); r.Status != http.StatusFound {
			t.Fatalf("single-album cover: %d %s", r.Status, r.Body)
		} else if _, size := picture(t, s.fetch(r.Header.Get("Location"))); size != image.Pt(16, 16) {
			t.Fatalf("single-album cover size %v", size)
		}
		if r := cover(g, "trip", nil); r.Status != http.StatusBadRequest {
			t.Fatalf("single-album cover with an album name: %d %s", r.Status, r.Body)
		}
		files := fileLibrary(t, s, nil)
		expectError(t, cover(files, "", nil), http.StatusBadRequest, "CoverNotSupportedInFileLibrary")
		expectError(t, cover(files, "docs", nil), http.StatusBadRequest, "CoverNotSupportedInFileLibrary")
	})
}

// Videos in a media library: type video; with ffmpeg on PATH the preview and the album cover are
// a JPEG of the first frame, without it they redirect to the video itself.
func TestVideoCover(t *testing.T) {
	s := startSystem(t)
	f := mediaLibrary(t, s, map[string]any{"isMultiAlbum": true})
	f.dir().mkdirs(t, f.token, []string{"films"})
	clip := realMP4(t)
	withFFmpeg := clip != nil
	if !withFFmpeg {
		t.Log("ffmpeg is not on PATH: the video-cover case did not run; checking the redirect to the video instead")
		clip = fakeMP4()
	}
	m := f.upload("films/clip.mp4", clip, nil)
	if m["type"] != "video" || m["fileType"] != "video" || m["previewByCI"] != withFFmpeg {
		t.Fatalf("video upload: %v", m)
	}
	cover := s.call("GET", "/api/v1/album/"+f.lib+"/-/cover/films", q(f.token, "size", "32"), nil, nil)
	if cover.Status != http.StatusFound {
		t.Fatalf("album cover: %d %s", cover.Status, cover.Body)
	}
	original := f.redirect("films/clip.mp4", nil)
	if !withFFmpeg {
		for _, loc := range []string{f.redirect("films/clip.mp4", q("", "preview", "")), f.redirect("films/clip.mp4", q("", "preview", "", "size", "32")), cover.Header.Get("Location")} {
			if urlPath(t, loc) != urlPath(t, original) {
				t.Fatalf("preview at %s, the video at %s", urlPath(t, loc), urlPath(t, original))
			}
		}
		return
	}
	for _, tc := range []struct {
		loc  string
		want image.Point
	}{
		{f.redirect("films/clip.mp4", q("", "preview", "")), image.Pt(64, 48)},
		{f.redirect("films/clip.mp4", q("", "preview", "", "size", "32")), image.Pt(32, 32)},
		{f.redirect("films/clip.mp4", q("", "preview", "", "scale", "50")), image.Pt(32, 24)},
		{cover.Header.Get("Location"), image.Pt(32, 32)},
	} {
		if urlPath(t, tc.loc) == urlPath(t, original) {
			t.Fatalf("preview at the video itself: %s", tc.loc)
		}
		r := s.raw("GET", tc.loc, nil, nil)
		format, size := picture(t, r.Body)
		if r.Status != http.StatusOK || format != "jpeg" || !bytes.HasPrefix(r.Body, []byte{0xff, 0xd8, 0xff}) ||
			r.Header.Get("Content-Type") != "image/jpeg" || size != tc.want {
			t.Fatalf("cover %s: %d %s %v (%s), want a %v JPEG", tc.loc, r.Status, format, size, r.Header.Get("Content-Type"), tc.want)
		}
	}
	// A file that only looks like a video has no frame: the preview is the file.
	f.upload("films/broken.mp4", fakeMP4(), nil)
	if loc := f.redirect("films/broken.mp4", q("", "preview", "", "size", "32")); urlPath(t, loc) != urlPath(t, f.redirect("films/broken.mp4", nil)) {
		t.Fatalf("preview of a broken video at %s", loc)
	}
}
