package app

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", DefaultPeriod},
		{"abc", DefaultPeriod},
		{"0", DefaultPeriod},
		{"-5", DefaultPeriod},
		{"-99999999999999999999999", DefaultPeriod},
		{"12.5", DefaultPeriod},
		{"1", MinPeriod},
		{"1199", MinPeriod},
		{"1200", 1200 * time.Second},
		{" 3600 ", 3600 * time.Second},
		{"86400", 86400 * time.Second},
		{"31536000", MaxPeriod},
		{"31536001", MaxPeriod},
		{"99999999999999999999999", MaxPeriod},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParsePeriod(tt.in); got != tt.want {
				t.Errorf("ParsePeriod(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseGrants(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		badName string
	}{
		{name: "empty is read only", in: "", want: nil},
		{name: "only commas", in: " , ,", want: nil},
		{name: "one", in: "admin", want: []string{"admin"}},
		{name: "trimmed and deduplicated", in: " upload_file , delete_file,upload_file", want: []string{"upload_file", "delete_file"}},
		{name: "2026 names", in: "read_only,delete_history,set_history_latest,create_virtual", want: []string{"read_only", "delete_history", "set_history_latest", "create_virtual"}},
		{name: "every documented grant", in: "admin,space_admin,create_space,delete_space,create_directory,delete_directory,delete_directory_permanent,move_directory,copy_directory,upload_file,upload_file_force,begin_upload,begin_upload_force,confirm_upload,create_symlink,create_symlink_force,delete_file,delete_file_permanent,move_file,move_file_force,copy_file,copy_file_force,delete_recycled,restore_recycled,acl",
			want: []string{"admin", "space_admin", "create_space", "delete_space", "create_directory", "delete_directory", "delete_directory_permanent", "move_directory", "copy_directory", "upload_file", "upload_file_force", "begin_upload", "begin_upload_force", "confirm_upload", "create_symlink", "create_symlink_force", "delete_file", "delete_file_permanent", "move_file", "move_file_force", "copy_file", "copy_file_force", "delete_recycled", "restore_recycled", "acl"}},
		{name: "unknown", in: "upload_file,superuser", badName: "superuser"},
		{name: "case matters", in: "Admin", badName: "Admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGrants(tt.in)
			if tt.badName != "" {
				var ge *GrantError
				if !errors.As(err, &ge) || ge.Grant != tt.badName || !errors.Is(err, ErrUnknownGrant) {
					t.Fatalf("ParseGrants(%q) error = %v, want unknown grant %q", tt.in, err, tt.badName)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseGrants(%q): %v", tt.in, err)
			}
			gotNames := got.Names()
			slices.Sort(gotNames)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(gotNames, want) {
				t.Errorf("ParseGrants(%q) = %v, want %v", tt.in, gotNames, want)
			}
		})
	}
}

func TestParseSpaces(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name      string
		in        string
		multi     bool
		admin     bool
		want      []string
		wantAll   bool
		wantError error
	}{
		{name: "single empty", in: "", want: []string{"-"}},
		{name: "single dash", in: "-", want: []string{"-"}},
		{name: "single other", in: "space1", wantError: ErrSpaceIDInvalid},
		{name: "single admin empty", in: "", admin: true, want: []string{"-"}},
		{name: "multi omitted", in: "", multi: true, want: nil},
		{name: "multi admin omitted = all", in: "", multi: true, admin: true, want: nil, wantAll: true},
		{name: "multi admin listed", in: "a", multi: true, admin: true, want: []string{"a"}},
		{name: "multi list", in: "a, b_1,C-2,a", multi: true, want: []string{"a", "b_1", "C-2"}},
		{name: "multi 64 chars", in: long, multi: true, want: []string{long}},
		{name: "multi 65 chars", in: long + "a", multi: true, wantError: ErrSpaceIDInvalid},
		{name: "multi dash", in: "-", multi: true, wantError: ErrSpaceIDInvalid},
		{name: "multi empty item", in: "a,,b", multi: true, wantError: ErrSpaceIDInvalid},
		{name: "multi trailing comma", in: "a,", multi: true, wantError: ErrSpaceIDInvalid},
		{name: "multi bad char", in: "a/b", multi: true, wantError: ErrSpaceIDInvalid},
		{name: "multi unicode", in: "空间", multi: true, wantError: ErrSpaceIDInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, all, err := ParseSpaces(tt.in, tt.multi, tt.admin)
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Fatalf("error = %v, want %v", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || all != tt.wantAll {
				t.Errorf("ParseSpaces(%q) = %v, all=%v; want %v, all=%v", tt.in, got, all, tt.want, tt.wantAll)
			}
		})
	}
}

func TestParseIDList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: []string{""}},
		{in: "u1", want: []string{"u1"}},
		{in: "u1,u2,u1", want: []string{"u1", "u2"}},
		{in: "u1,,u2", want: []string{"u1", "", "u2"}},
		{in: " u1", want: []string{" u1"}}, // opaque: not trimmed
		{in: strings.Repeat("x,", 100) + "y", want: []string{"x", "y"}},
		{in: strings.TrimSuffix(strings.Repeat("a,", 101), ","), want: []string{"a"}},
		{in: func() string {
			var b strings.Builder
			for i := range 101 {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.Repeat("z", i+1))
			}
			return b.String()
		}(), wantErr: true},
		{in: strings.Repeat("x", 257), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 20)], func(t *testing.T) {
			got, err := ParseIDList(tt.in, "user_id")
			if tt.wantErr {
				if !errors.Is(err, ErrParamInvalid) {
					t.Fatalf("error = %v, want ParamInvalid", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParseIDList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestGrantNamesMatchAuthz(t *testing.T) {
	// The record keeps grant names; a principal rebuilt from them must carry the same set.
	set, err := ParseGrants("admin,acl,create_virtual")
	if err != nil {
		t.Fatal(err)
	}
	again, _, ok := authz.NewGrantSet(set.Names()...)
	if !ok || again != set {
		t.Fatalf("round trip %v → %v", set, again)
	}
}
