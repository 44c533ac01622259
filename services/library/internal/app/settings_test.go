package app

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestDefaultSettings(t *testing.T) {
	tests := []struct {
		name   string
		isFile bool
		want   Settings
	}{
		{
			name: "media library allows photos and videos",
			want: Settings{
				AllowPhoto: true, AllowVideo: true,
				AllowPhotoExtname: []string{}, AllowVideoExtname: []string{}, AllowFileExtname: []string{},
				FileHistoryCount: DefaultFileHistoryCount, MaxDirFileNameLength: 255,
				CORSAllowedOrigins: []string{},
			},
		},
		{
			name:   "file library leaves photo and video switches off",
			isFile: true,
			want: Settings{
				IsFileLibrary:     true,
				AllowPhotoExtname: []string{}, AllowVideoExtname: []string{}, AllowFileExtname: []string{},
				FileHistoryCount: DefaultFileHistoryCount, MaxDirFileNameLength: 255,
				CORSAllowedOrigins: []string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultSettings(tt.isFile)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("DefaultSettings(%v) = %+v, want %+v", tt.isFile, got, tt.want)
			}
			if _, err := got.validate(); err != nil {
				t.Fatalf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	media := DefaultSettings(false)
	file := DefaultSettings(true)
	tests := []struct {
		name    string
		base    Settings
		patch   SettingsPatch
		wantErr string // substring of the detail; "" = valid
	}{
		{name: "media defaults", base: media},
		{name: "file defaults", base: file},
		{name: "multi-album single-tenant media", base: media, patch: SettingsPatch{IsMultiAlbum: ptr(true)}},
		{name: "multi-album in file library", base: file, patch: SettingsPatch{IsMultiAlbum: ptr(true)}, wantErr: "isMultiAlbum"},
		{name: "multi-album multi-tenant", base: media, patch: SettingsPatch{IsMultiSpace: ptr(true), IsMultiAlbum: ptr(true)}, wantErr: "isMultiAlbum"},
		{name: "public read single-tenant", base: file, patch: SettingsPatch{IsPublicRead: ptr(true)}},
		{name: "public read multi-tenant", base: media, patch: SettingsPatch{IsMultiSpace: ptr(true), IsPublicRead: ptr(true)}, wantErr: "isPublicRead"},
		{name: "allowPhoto in file library", base: file, patch: SettingsPatch{AllowPhoto: ptr(true)}, wantErr: "allowPhoto"},
		{name: "allowVideo in file library", base: file, patch: SettingsPatch{AllowVideo: ptr(true)}, wantErr: "allowVideo"},
		{name: "media library may switch photos off", base: media, patch: SettingsPatch{AllowPhoto: ptr(false)}},
		{name: "recycle days at max", base: media, patch: SettingsPatch{AutoRemoveRecycledDays: ptr[uint32](1095)}},
		{name: "recycle days above max", base: media, patch: SettingsPatch{AutoRemoveRecycledDays: ptr[uint32](1096)}, wantErr: "autoRemoveRecycledDays"},
		{name: "history count 0", base: media, patch: SettingsPatch{FileHistoryCount: ptr[uint32](0)}, wantErr: "fileHistoryCount"},
		{name: "history count 999", base: media, patch: SettingsPatch{FileHistoryCount: ptr[uint32](999)}},
		{name: "history count 1000", base: media, patch: SettingsPatch{FileHistoryCount: ptr[uint32](1000)}, wantErr: "fileHistoryCount"},
		{name: "history expire 999", base: media, patch: SettingsPatch{FileHistoryExpireDay: ptr[uint32](999)}},
		{name: "history expire 1000", base: media, patch: SettingsPatch{FileHistoryExpireDay: ptr[uint32](1000)}, wantErr: "fileHistoryExpireDay"},
		{name: "name length 0", base: media, patch: SettingsPatch{MaxDirFileNameLength: ptr[uint32](0)}, wantErr: "maxDirFileNameLength"},
		{name: "name length 1", base: media, patch: SettingsPatch{MaxDirFileNameLength: ptr[uint32](1)}},
		{name: "name length 256", base: media, patch: SettingsPatch{MaxDirFileNameLength: ptr[uint32](256)}, wantErr: "maxDirFileNameLength"},
		{name: "quota with size", base: media, patch: SettingsPatch{EnableQuota: ptr(true), LibraryQuota: ptr[uint64](1 << 30)}},
		{name: "quota without size", base: media, patch: SettingsPatch{EnableQuota: ptr(true)}, wantErr: "libraryQuota"},
		{name: "quota zero", base: media, patch: SettingsPatch{EnableQuota: ptr(true), LibraryQuota: ptr[uint64](0)}, wantErr: "libraryQuota"},
		{name: "size without quota", base: media, patch: SettingsPatch{LibraryQuota: ptr[uint64](5)}, wantErr: "libraryQuota"},
		{name: "zero size without quota", base: media, patch: SettingsPatch{LibraryQuota: ptr[uint64](0)}},
		{name: "extname lists", base: media, patch: SettingsPatch{AllowPhotoExtname: &[]string{"jpg", "png"}, AllowFileExtname: &[]string{}}},
		{name: "empty extname item", base: media, patch: SettingsPatch{AllowVideoExtname: &[]string{""}}, wantErr: "allowVideoExtname"},
		{name: "too many items", base: media, patch: SettingsPatch{AllowFileExtname: ptr(make([]string, 1001))}, wantErr: "allowFileExtname"},
		{name: "origins", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://app.example.com", "http://localhost:3000", "*", "https://[::1]:8443"}}},
		{name: "origin with path", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://app.example.com/"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin with query", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://a.example?x=1"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin with fragment", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://a.example#x"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin with user", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://u@a.example"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin ftp", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"ftp://a.example"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin without scheme", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"app.example.com"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin bad port", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"http://a.example:x"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin empty port", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"http://a.example:"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin wildcard host", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://*.example.com"}}, wantErr: "corsAllowedOrigins"},
		{name: "origin with space", base: media, patch: SettingsPatch{CORSAllowedOrigins: &[]string{"https://a b.example"}}, wantErr: "corsAllowedOrigins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.base.apply(tt.patch).validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			var in *InputError
			if !errors.As(err, &in) || !errors.Is(err, ErrInvalidParam) {
				t.Fatalf("validate = %v, want an ErrInvalidParam InputError", err)
			}
			if !strings.Contains(in.Reason, tt.wantErr) {
				t.Fatalf("detail %q does not name %q", in.Reason, tt.wantErr)
			}
		})
	}
}

func TestValidateNormalisesOrigins(t *testing.T) {
	s, err := DefaultSettings(false).apply(SettingsPatch{CORSAllowedOrigins: &[]string{"HTTPS://App.Example.COM:8443"}}).validate()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://app.example.com:8443"}; !reflect.DeepEqual(s.CORSAllowedOrigins, want) {
		t.Fatalf("origins = %q, want %q", s.CORSAllowedOrigins, want)
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "plain", in: "photos"},
		{name: "50 characters of 3 bytes", in: strings.Repeat("图", 50)},
		{name: "51 characters", in: strings.Repeat("a", 51), wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "white space only", in: " \t ", wantErr: true},
		{name: "surrounding space kept", in: " photos "},
		{name: "control character", in: "a\nb", wantErr: true},
		{name: "invalid utf-8", in: "a\xffb", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkName(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkName(%q) = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidParam) {
				t.Fatalf("checkName error %v is not ErrInvalidParam", err)
			}
		})
	}
}

func TestCheckRemark(t *testing.T) {
	if err := checkRemark(strings.Repeat("é", 250)); err != nil {
		t.Fatalf("250 characters: %v", err)
	}
	if err := checkRemark(strings.Repeat("é", 251)); !errors.Is(err, ErrInvalidParam) {
		t.Fatalf("251 characters: %v, want ErrInvalidParam", err)
	}
	if err := checkRemark(""); err != nil {
		t.Fatalf("empty remark: %v", err)
	}
}

func TestApplyPatch(t *testing.T) {
	base := Library{ID: "smh0123456789abc", Name: "photos", Remark: "r", Settings: DefaultSettings(false)}
	multi := base
	multi.Settings.IsMultiSpace = true
	quota := base
	quota.Settings.EnableQuota, quota.Settings.LibraryQuota = true, 100

	tests := []struct {
		name      string
		cur       Library
		patch     Patch
		want      func(*Library)
		wantErr   error
		wantField string
	}{
		{name: "empty patch changes nothing", cur: base, want: func(*Library) {}},
		{
			name: "only present fields change", cur: base,
			patch: Patch{Name: ptr("videos"), Settings: SettingsPatch{UseRecycleBin: ptr(true), AutoRemoveRecycledDays: ptr[uint32](30)}},
			want: func(l *Library) {
				l.Name = "videos"
				l.Settings.UseRecycleBin, l.Settings.AutoRemoveRecycledDays = true, 30
			},
		},
		{
			name: "empty list clears, absent list stays", cur: func() Library {
				l := base
				l.Settings = l.Settings.apply(SettingsPatch{AllowPhotoExtname: &[]string{"jpg"}, AllowVideoExtname: &[]string{"mp4"}})
				return l
			}(),
			patch: Patch{Settings: SettingsPatch{AllowPhotoExtname: &[]string{}}},
			want: func(l *Library) {
				l.Settings.AllowPhotoExtname = []string{}
				l.Settings.AllowVideoExtname = []string{"mp4"}
			},
		},
		{name: "same fixed values accepted", cur: multi, patch: Patch{Settings: SettingsPatch{
			IsFileLibrary: ptr(false), IsMultiSpace: ptr(true), IsMultiAlbum: ptr(false), EnableQuota: ptr(false),
		}}, want: func(l *Library) { l.Settings.IsMultiSpace = true }},
		{name: "isFileLibrary fixed", cur: base, patch: Patch{Settings: SettingsPatch{IsFileLibrary: ptr(true)}}, wantErr: ErrImmutableField, wantField: "isFileLibrary"},
		{name: "isMultiSpace fixed", cur: base, patch: Patch{Settings: SettingsPatch{IsMultiSpace: ptr(true)}}, wantErr: ErrImmutableField, wantField: "isMultiSpace"},
		{name: "isMultiAlbum fixed", cur: base, patch: Patch{Settings: SettingsPatch{IsMultiAlbum: ptr(true)}}, wantErr: ErrImmutableField, wantField: "isMultiAlbum"},
		{name: "enableQuota fixed", cur: quota, patch: Patch{Settings: SettingsPatch{EnableQuota: ptr(false)}}, wantErr: ErrImmutableField, wantField: "enableQuota"},
		{name: "quota size may change", cur: quota, patch: Patch{Settings: SettingsPatch{LibraryQuota: ptr[uint64](200)}},
			want: func(l *Library) { l.Settings.EnableQuota, l.Settings.LibraryQuota = true, 200 }},
		{name: "merged result validated", cur: multi, patch: Patch{Settings: SettingsPatch{IsPublicRead: ptr(true)}}, wantErr: ErrInvalidParam, wantField: "isPublicRead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.cur
			before.Settings = tt.cur.Settings.apply(SettingsPatch{}) // deep copy
			got, err := applyPatch(tt.cur, tt.patch)
			if !reflect.DeepEqual(tt.cur, before) {
				t.Fatalf("applyPatch modified its input")
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("applyPatch = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("error %q does not name %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("applyPatch: %v", err)
			}
			want := before
			want.Settings = before.Settings.apply(SettingsPatch{})
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("applyPatch =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestImmutableMessage(t *testing.T) {
	err := checkImmutable(DefaultSettings(false), SettingsPatch{IsMultiSpace: ptr(true)})
	var in *InputError
	if !errors.As(err, &in) || in.Reason != "isMultiSpace is fixed at creation" {
		t.Fatalf("checkImmutable = %v", err)
	}
}
