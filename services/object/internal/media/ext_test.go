package media

import (
	"errors"
	"testing"
)

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
