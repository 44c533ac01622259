package app

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitPathAndNames(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		maxLen  int
		want    []string
		wantErr error
	}{
		{"root", "", 0, nil, nil},
		{"root with slash", "/", 0, nil, nil},
		{"nested", "a/b/c", 0, []string{"a", "b", "c"}, nil},
		{"leading and trailing slash", "/a/b/", 0, []string{"a", "b"}, nil},
		{"utf-8 and punctuation kept as given", "相册/a b+c#?", 0, []string{"相册", "a b+c#?"}, nil},
		{"empty segment", "a//b", 0, nil, ErrIllegalName},
		{"dot", "a/./b", 0, nil, ErrIllegalName},
		{"dot dot", "../a", 0, nil, ErrIllegalName},
		{"backslash", `a\b`, 0, nil, ErrIllegalName},
		{"control character", "a\x01b", 0, nil, ErrIllegalName},
		{"DEL", "a\x7fb", 0, nil, ErrIllegalName},
		{"invalid utf-8", "a\xffb", 0, nil, ErrIllegalName},
		{"255 characters", strings.Repeat("相", 255), 0, []string{strings.Repeat("相", 255)}, nil},
		{"256 characters", strings.Repeat("a", 256), 0, nil, ErrNameTooLong},
		{"library limit", "abcdef", 5, nil, ErrNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitPath(tt.raw, tt.maxLen)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("SplitPath(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestAlbumRule(t *testing.T) {
	file := Library{IsFileLibrary: true}
	singleAlbum := Library{}
	multiAlbum := Library{IsMultiAlbum: true}
	tenants := Library{IsMultiSpace: true}
	albumSpace := Space{Ext: SpaceExtension{IsMultiAlbum: true}}
	tests := []struct {
		name string
		lib  Library
		sp   Space
		path []string
		want error
	}{
		{"file library, any depth", file, Space{}, []string{"a", "b", "c"}, nil},
		{"media library without multi-album", singleAlbum, Space{}, []string{"a"}, ErrDirectoryNotAllowed},
		{"multi-album, one level", multiAlbum, Space{}, []string{"a"}, nil},
		{"multi-album, two levels", multiAlbum, Space{}, []string{"a", "b"}, ErrDirectoryLevelExceed},
		{"multi-tenant: the space decides (off)", tenants, Space{}, []string{"a"}, ErrDirectoryNotAllowed},
		{"multi-tenant: the space decides (on)", tenants, albumSpace, []string{"a"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := albumRule(tt.lib, tt.sp, tt.path); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("albumRule = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestListOptions(t *testing.T) {
	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	tests := []struct {
		name     string
		q        ListQuery
		wantErr  bool
		pageMode bool
		check    func(ListOptions) bool
	}{
		{name: "defaults: marker mode, 20", q: ListQuery{}, check: func(o ListOptions) bool { return o.Limit == 20 && o.Offset == 0 }},
		{name: "marker and limit", q: ListQuery{Marker: s("m"), Limit: n(5)}, check: func(o ListOptions) bool { return o.Marker == "m" && o.Limit == 5 }},
		{name: "page mode", q: ListQuery{Page: n(3), PageSize: n(10)}, pageMode: true, check: func(o ListOptions) bool { return o.Offset == 20 && o.Limit == 10 }},
		{name: "offset and limit", q: ListQuery{Offset: n(7), Limit: n(3)}, pageMode: true, check: func(o ListOptions) bool { return o.Offset == 7 && o.Limit == 3 }},
		{name: "both modes", q: ListQuery{Marker: s("m"), Page: n(1)}, wantErr: true},
		{name: "by-marker and by-page", q: ListQuery{Mode: "both"}, wantErr: true},
		{name: "limit over 1000", q: ListQuery{Limit: n(1001)}, wantErr: true},
		{name: "page window", q: ListQuery{Page: n(11), PageSize: n(1000)}, wantErr: true},
		{name: "order and direction", q: ListQuery{OrderBy: "size", OrderByType: "DESC"}, check: func(o ListOptions) bool { return o.OrderBy == OrderSize && o.Desc }},
		{name: "bad order", q: ListQuery{OrderBy: "colour"}, wantErr: true},
		{name: "bad direction", q: ListQuery{OrderByType: "up"}, wantErr: true},
		{name: "filters and union", q: ListQuery{Filter: "onlyDir", SortType: "union"}, check: func(o ListOptions) bool { return o.OnlyDirs && o.Union }},
		{name: "bad filter", q: ListQuery{Filter: "onlyCats"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, pageMode, err := listOptions(tt.q)
			if tt.wantErr {
				if !errors.Is(err, ErrParamInvalid) {
					t.Fatalf("error %v, want ParamInvalid", err)
				}
				return
			}
			if err != nil || pageMode != tt.pageMode || !tt.check(opts) {
				t.Fatalf("listOptions = %+v, page mode %v, %v", opts, pageMode, err)
			}
		})
	}
}

func TestSpaceIDsAndExtensions(t *testing.T) {
	for id, ok := range map[string]bool{"ab": true, "team-a": true, "a": false, "-ab": false, "ab-": false, "Ab": false, "a_b": false, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false} {
		if customSpaceID.MatchString(id) != ok {
			t.Errorf("custom space id %q: valid = %v, want %v", id, !ok, ok)
		}
	}
	for range 20 {
		id, err := newSpaceID()
		if err != nil || !strings.HasPrefix(id, "space") || len(id) != 18 || customSpaceID.MatchString(id) == false {
			t.Fatalf("generated id %q (%v)", id, err)
		}
	}
	tests := []struct {
		name string
		lib  Library
		ext  SpaceExtension
		ok   bool
	}{
		{"media defaults", Library{}, SpaceExtension{}, true},
		{"media with photo whitelist", Library{}, SpaceExtension{AllowPhoto: true, AllowPhotoExtname: []string{".jpg"}}, true},
		{"media with a file whitelist", Library{}, SpaceExtension{AllowFileExtname: []string{".txt"}}, false},
		{"file library with albums", Library{IsFileLibrary: true}, SpaceExtension{IsMultiAlbum: true}, false},
		{"file library with photos", Library{IsFileLibrary: true}, SpaceExtension{AllowPhoto: true}, false},
		{"extension without a dot", Library{}, SpaceExtension{AllowVideoExtname: []string{"mp4"}}, false},
		{"long tag", Library{}, SpaceExtension{SpaceTag: strings.Repeat("t", 65)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateExtension(tt.lib, tt.ext)
			if (err == nil) != tt.ok {
				t.Fatalf("validateExtension = %v, want ok %v", err, tt.ok)
			}
		})
	}
	// A patch changes what it carries; nil keeps, an empty list clears.
	empty := []string{}
	tag := "team"
	got := ExtensionPatch{AllowPhotoExtname: &empty, SpaceTag: &tag}.apply(SpaceExtension{AllowPhotoExtname: []string{".jpg"}, AllowVideo: true})
	if len(got.AllowPhotoExtname) != 0 || !got.AllowVideo || got.SpaceTag != "team" {
		t.Fatalf("patch applied = %+v", got)
	}
}
