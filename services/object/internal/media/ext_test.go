package media

import (
	"errors"
	"testing"
)

func TestExtOf(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"photo.jpg", "jpg"},
		{"Photo.JPG", "jpg"},
		{"a/b/clip.Mp4", "mp4"},
		{"archive.tar.gz", "gz"},
		{"照片.JPEG", "jpeg"},
		{"README", ""},
		{"trailing.", ""},
		{".bashrc", ""},
		{".jpg", ""},
		{"dir/.hidden.png", "png"},
		{"..jpg", "jpg"},
		{"dir.d/file", ""},
		{"", ""},
		{"a/", ""},
	}
	for _, tt := range tests {
		if got := ExtOf(tt.name); got != tt.want {
			t.Errorf("ExtOf(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestKindByExt(t *testing.T) {
	tests := []struct {
		ext  string
		want Kind
	}{
		{"jpg", KindImage},
		{".JPG", KindImage},
		{"heic", KindImage},
		{"mp4", KindVideo},
		{".MOV", KindVideo},
		{"ts", KindVideo},
		{"txt", KindOther},
		{"", KindOther},
	}
	for _, tt := range tests {
		if got := KindByExt(tt.ext); got != tt.want {
			t.Errorf("KindByExt(%q) = %v, want %v", tt.ext, got, tt.want)
		}
	}
}

// TestDefaultExts checks that the exported lists agree with the package's decisions and that
// changing them cannot change those decisions.
func TestDefaultExts(t *testing.T) {
	for _, e := range DefaultPhotoExts {
		if KindByExt(e) != KindImage {
			t.Errorf("default photo extension %q is not an image by KindByExt", e)
		}
	}
	for _, e := range DefaultVideoExts {
		if KindByExt(e) != KindVideo {
			t.Errorf("default video extension %q is not a video by KindByExt", e)
		}
	}
	saved := DefaultPhotoExts[0]
	DefaultPhotoExts[0] = "exe"
	defer func() { DefaultPhotoExts[0] = saved }()
	if KindByExt("exe") != KindOther || KindByExt(saved) != KindImage {
		t.Error("mutating DefaultPhotoExts changed KindByExt")
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		file       string
		allowPhoto bool
		allowVideo bool
		photoExts  []string
		videoExts  []string
		want       error
	}{
		{"photo by default list", KindImage, "a.jpg", true, true, nil, nil, nil},
		{"photo upper-case ext", KindImage, "a.JPG", true, false, nil, nil, nil},
		{"heic photo", KindImage, "IMG_0001.HEIC", true, false, nil, nil, nil},
		{"video by default list", KindVideo, "v.mp4", true, true, nil, nil, nil},
		{"video .ts", KindVideo, "v.ts", false, true, nil, nil, nil},
		{"photos disabled", KindImage, "a.jpg", false, true, nil, nil, ErrExtnameNotAllowed},
		{"videos disabled", KindVideo, "v.mp4", true, false, nil, nil, ErrExtnameNotAllowed},
		{"photo named .mp4", KindImage, "a.mp4", true, true, nil, nil, ErrExtnameNotAllowed},
		{"video named .jpg", KindVideo, "v.jpg", true, true, nil, nil, ErrExtnameNotAllowed},
		{"photo without extension", KindImage, "photo", true, true, nil, nil, ErrExtnameNotAllowed},
		{"photo with unknown extension", KindImage, "a.jfif", true, true, nil, nil, ErrExtnameNotAllowed},
		{"text named .jpg", KindOther, "a.jpg", true, true, nil, nil, ErrNotMedia},
		{"text named .txt", KindOther, "a.txt", true, true, nil, nil, ErrNotMedia},
		{"not media even when all disabled", KindOther, "a.txt", false, false, nil, nil, ErrNotMedia},
		{"whitelist with dot and case", KindImage, "a.png", true, true, []string{".PNG"}, nil, nil},
		{"whitelist excludes default", KindImage, "a.jpg", true, true, []string{".png"}, nil, ErrExtnameNotAllowed},
		{"whitelist adds custom ext", KindImage, "a.JFIF", true, true, []string{"jfif"}, nil, nil},
		{"whitelist and no extension", KindImage, "photo", true, true, []string{"png", ""}, nil, ErrExtnameNotAllowed},
		{"video whitelist", KindVideo, "v.MKV", true, true, nil, []string{".mkv"}, nil},
		{"video whitelist excludes mp4", KindVideo, "v.mp4", true, true, nil, []string{".mkv"}, ErrExtnameNotAllowed},
		{"photo whitelist does not bind videos", KindVideo, "v.mp4", true, true, []string{".png"}, nil, nil},
		{"video whitelist does not bind photos", KindImage, "a.jpg", true, true, nil, []string{".mkv"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Allowed(tt.kind, tt.file, tt.allowPhoto, tt.allowVideo, tt.photoExts, tt.videoExts)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Allowed = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSameMediaType(t *testing.T) {
	tests := []struct {
		oldName, newName string
		want             bool
	}{
		{"a.jpg", "b.jpg", true},
		{"a.jpg", "a.PNG", true},
		{"a.jpg", "a.heic", true},
		{"v.mp4", "v.mov", true},
		{"v.mp4", "v.MP4", true},
		{"a.jpg", "a.mp4", false},
		{"v.mp4", "v.jpg", false},
		{"a.jpg", "a.txt", false},
		{"a.jpg", "a", false},
		{"a.jfif", "b.jfif", true}, // custom whitelisted extension kept
		{"a.jfif", "b.jpg", false}, // unknown kind on the old side
	}
	for _, tt := range tests {
		if got := SameMediaType(tt.oldName, tt.newName); got != tt.want {
			t.Errorf("SameMediaType(%q, %q) = %v, want %v", tt.oldName, tt.newName, got, tt.want)
		}
	}
}
