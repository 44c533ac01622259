package app

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplitFilePath(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		maxLen  int
		want    []string
		wantErr error
	}{
		{"root file", "a.jpg", 0, []string{"a.jpg"}, nil},
		{"nested", "a/b/c.txt", 0, []string{"a", "b", "c.txt"}, nil},
		{"leading slash", "/a/c.txt", 0, []string{"a", "c.txt"}, nil},
		{"empty path", "", 0, nil, ErrEmptyFileName},
		{"only a slash", "/", 0, nil, ErrEmptyFileName},
		{"empty last segment", "a/b/", 0, nil, ErrEmptyFileName},
		{"empty middle segment", "a//b.txt", 0, nil, ErrIllegalName},
		{"dot dot", "a/../b.txt", 0, nil, ErrIllegalName},
		{"control character", "a/b\x00.txt", 0, nil, ErrIllegalName},
		{"255-character file name", strings.Repeat("相", 251) + ".txt", 0, []string{strings.Repeat("相", 251) + ".txt"}, nil},
		{"256-character file name", strings.Repeat("a", 252) + ".txt", 0, nil, ErrFileNameTooLong},
		{"256-character directory", strings.Repeat("a", 256) + "/b.txt", 0, nil, ErrNameTooLong},
		{"library limit on the file", "abcdef.txt", 8, nil, ErrFileNameTooLong},
		{"library limit on a directory", "abcdefghi/a.txt", 8, nil, ErrNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitFilePath(tt.raw, tt.maxLen)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == ErrNameTooLong && errors.Is(err, ErrFileNameTooLong) {
					t.Fatal("a directory segment reported as a file name")
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitFilePath(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestParseFileStrategy(t *testing.T) {
	for in, want := range map[string]Conflict{"": ConflictRename, "rename": ConflictRename, "ask": ConflictAsk, "overwrite": ConflictOverwrite} {
		if got, err := parseFileStrategy(in); err != nil || got != want {
			t.Errorf("parseFileStrategy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseFileStrategy("replace"); !errors.Is(err, ErrInvalidStrategy) {
		t.Errorf("parseFileStrategy(replace) = %v", err)
	}
}

func TestFileRule(t *testing.T) {
	file := Library{IsFileLibrary: true}
	fileWhitelist := Library{IsFileLibrary: true, AllowFileExtname: []string{".txt", "PDF"}}
	single := Library{}
	multi := Library{IsMultiAlbum: true}
	tenants := Library{IsMultiSpace: true}
	albums := Space{Ext: SpaceExtension{IsMultiAlbum: true}}
	txtSpace := Space{Ext: SpaceExtension{AllowFileExtname: []string{".md"}}}
	tests := []struct {
		name string
		lib  Library
		sp   Space
		path string
		want error
	}{
		{"file library, any depth", file, Space{}, "a/b/c/d.bin", nil},
		{"file library, no extension", file, Space{}, "README", nil},
		{"library whitelist admits", fileWhitelist, Space{}, "a/b.TXT", nil},
		{"library whitelist admits, dot-less entry", fileWhitelist, Space{}, "b.pdf", nil},
		{"library whitelist refuses", fileWhitelist, Space{}, "b.jpg", ErrExtnameNotAllowed},
		{"library whitelist refuses no extension", fileWhitelist, Space{}, "README", ErrExtnameNotAllowed},
		{"space whitelist wins", fileWhitelist, txtSpace, "b.txt", ErrExtnameNotAllowed},
		{"space whitelist admits", fileWhitelist, txtSpace, "b.md", nil},
		{"single album: root", single, Space{}, "a.jpg", nil},
		{"single album: no directories", single, Space{}, "x/a.jpg", ErrDirectoryNotAllowed},
		{"multi album: root refused", multi, Space{}, "a.jpg", ErrUploadToRoot},
		{"multi album: in an album", multi, Space{}, "x/a.jpg", nil},
		{"multi album: deeper", multi, Space{}, "x/y/a.jpg", ErrDirectoryLevelExceed},
		{"media ignores the file whitelist", Library{AllowFileExtname: []string{".txt"}}, Space{}, "a.jpg", nil},
		{"tenant space without albums", tenants, Space{}, "x/a.jpg", ErrDirectoryNotAllowed},
		{"tenant space with albums", tenants, albums, "a.jpg", ErrUploadToRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fileRule(tt.lib, tt.sp, strings.Split(tt.path, "/"))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("fileRule(%s) = %v, want %v", tt.path, err, tt.want)
			}
		})
	}
}

func TestUploadRules(t *testing.T) {
	mediaLib := Library{AllowPhoto: true, AllowVideo: true, AllowPhotoExtname: []string{".jpg"}}
	tests := []struct {
		name string
		lib  Library
		sp   Space
		want UploadRules
	}{
		{"file library", Library{IsFileLibrary: true, AllowFileExtname: []string{".txt"}}, Space{},
			UploadRules{AllowFileExtname: []string{".txt"}}},
		{"single tenant: the library's rules", mediaLib, Space{Ext: SpaceExtension{AllowPhoto: false}},
			UploadRules{MediaLibrary: true, AllowPhoto: true, AllowVideo: true, AllowPhotoExtname: []string{".jpg"}}},
		{"tenant space with its own rules", Library{IsMultiSpace: true, AllowPhoto: true, AllowVideo: true},
			Space{Ext: SpaceExtension{AllowVideo: true, AllowVideoExtname: []string{".mp4"}}},
			UploadRules{MediaLibrary: true, AllowVideo: true, AllowVideoExtname: []string{".mp4"}}},
		{"tenant space without settings takes the library's", Library{IsMultiSpace: true, AllowPhoto: true, AllowVideo: true},
			Space{}, UploadRules{MediaLibrary: true, AllowPhoto: true, AllowVideo: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := uploadRules(tt.lib, tt.sp); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("uploadRules = %+v, want %+v", got, tt.want)
			}
		})
	}
}
