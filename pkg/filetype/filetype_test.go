package filetype

import (
	"slices"
	"testing"
)

func TestExtOf(t *testing.T) {
	tests := []struct{ name, want string }{
		{"photo.jpg", "jpg"},
		{"Photo.JPG", "jpg"},
		{"a/b/clip.Mp4", "mp4"},
		{"a.tar.gz", "gz"},
		{"README", ""},
		{"a.", ""},
		{".bashrc", ""},
		{".jpg", ""},
		{"dir.d/file", ""},
		{"相册/照片.HEIC", "heic"},
		{"", ""},
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
		{"jpg", Image}, {".JPEG", Image}, {" .png", Image}, {"heic", Image}, {"tiff", Image},
		{"mp4", Video}, {".MOV", Video}, {"ts", Video}, {"mpeg", Video}, {"webm", Video},
		{"txt", Other}, {"", Other}, {"mp3", Other}, {"svg", Other},
	}
	for _, tt := range tests {
		if got := KindByExt(tt.ext); got != tt.want {
			t.Errorf("KindByExt(%q) = %v, want %v", tt.ext, got, tt.want)
		}
	}
	if KindOf("a/b.GIF") != Image || KindOf("clip.avi") != Video || KindOf("doc.pdf") != Other {
		t.Error("KindOf does not follow the name's extension")
	}
	for _, kind := range []Kind{Image, Video} {
		exts := DefaultExts(kind)
		if len(exts) == 0 {
			t.Fatalf("no default extensions for %v", kind)
		}
		for _, e := range exts {
			if KindByExt(e) != kind {
				t.Errorf("default %v extension %q maps to %v", kind, e, KindByExt(e))
			}
		}
		exts[0] = "changed"
		if DefaultExts(kind)[0] == "changed" {
			t.Error("DefaultExts shares its slice")
		}
	}
	if DefaultExts(Other) != nil {
		t.Error("DefaultExts(Other) lists extensions")
	}
	if Image.String() != "image" || Video.String() != "video" || Other.String() != "other" {
		t.Error("kind names")
	}
}

func TestSameMediaType(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"a.jpg", "b.jpg", true},
		{"a.jpg", "a.JPG", true},
		{"a.jpg", "a.png", true},
		{"a.mp4", "a.mov", true},
		{"a.jpg", "a.mp4", false},
		{"a.mp4", "a.gif", false},
		{"a.jpg", "a.txt", false},
		{"a.jpg", "a", false},
		{"a.xyz", "b.xyz", true}, // a whitelisted extension kept as it is
		{"a.xyz", "a.jpg", false},
		{"a", "b", true},
	}
	for _, tt := range tests {
		if got := SameMediaType(tt.from, tt.to); got != tt.want {
			t.Errorf("SameMediaType(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestInList(t *testing.T) {
	list := []string{".JPG", "png", " .Mp4"}
	for name, want := range map[string]bool{
		"a.jpg": true, "a.JPG": true, "b.png": true, "c.mp4": true, "d.gif": false, "README": false, ".jpg": false,
	} {
		if got := InList(name, list); got != want {
			t.Errorf("InList(%q) = %v, want %v", name, got, want)
		}
	}
	if InList("a.jpg", nil) {
		t.Error("an empty list holds nothing")
	}
	if !slices.Equal([]string{NormalizeExt(".JPG"), NormalizeExt("jpg")}, []string{"jpg", "jpg"}) {
		t.Error("NormalizeExt")
	}
}
