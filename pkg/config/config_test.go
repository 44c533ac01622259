package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestEnvName(t *testing.T) {
	tests := []struct {
		flag, want string
	}{
		{"listen", "SMH_LISTEN"},
		{"data-dir", "SMH_DATA_DIR"},
		{"tls-cert", "SMH_TLS_CERT"},
		{"etcd-dial-timeout", "SMH_ETCD_DIAL_TIMEOUT"},
		{"already_snake", "SMH_ALREADY_SNAKE"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			if got := EnvName(tt.flag); got != tt.want {
				t.Fatalf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

type flags struct {
	fs      *pflag.FlagSet
	listen  *string
	workers *int
	debug   *bool
}

func newFlags() flags {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	return flags{
		fs:      fs,
		listen:  fs.String("listen", ":8443", ""),
		workers: fs.Int("max-workers", 4, ""),
		debug:   fs.Bool("debug", false, ""),
	}
}

func TestBindEnv(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		wantErr     string
		wantListen  string
		wantWorkers int
		wantDebug   bool
	}{
		{
			name:        "no env keeps defaults",
			wantListen:  ":8443",
			wantWorkers: 4,
		},
		{
			name:        "env fills unset flags",
			env:         map[string]string{"SMH_LISTEN": ":9000", "SMH_MAX_WORKERS": "16", "SMH_DEBUG": "true"},
			wantListen:  ":9000",
			wantWorkers: 16,
			wantDebug:   true,
		},
		{
			name:        "command line wins over env",
			env:         map[string]string{"SMH_LISTEN": ":9000", "SMH_MAX_WORKERS": "16"},
			args:        []string{"--listen", ":7000"},
			wantListen:  ":7000",
			wantWorkers: 16,
		},
		{
			name:        "empty env value is a value",
			env:         map[string]string{"SMH_LISTEN": ""},
			wantListen:  "",
			wantWorkers: 4,
		},
		{
			name:    "bad int names the variable",
			env:     map[string]string{"SMH_MAX_WORKERS": "abc"},
			wantErr: "SMH_MAX_WORKERS",
		},
		{
			name:    "bad bool names the variable",
			env:     map[string]string{"SMH_DEBUG": "perhaps"},
			wantErr: "SMH_DEBUG",
		},
		{
			name:        "bad env value of a flag given on the command line is ignored",
			env:         map[string]string{"SMH_MAX_WORKERS": "abc"},
			args:        []string{"--max-workers=2"},
			wantListen:  ":8443",
			wantWorkers: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SMH_LISTEN", "SMH_MAX_WORKERS", "SMH_DEBUG"} {
				t.Setenv(k, "x") // restored after the test
			}
			for _, k := range []string{"SMH_LISTEN", "SMH_MAX_WORKERS", "SMH_DEBUG"} {
				if v, ok := tt.env[k]; ok {
					t.Setenv(k, v)
				} else {
					unsetenv(t, k)
				}
			}
			f := newFlags()
			if err := f.fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := BindEnv(f.fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("BindEnv = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("BindEnv: %v", err)
			}
			if *f.listen != tt.wantListen || *f.workers != tt.wantWorkers || *f.debug != tt.wantDebug {
				t.Fatalf("listen=%q workers=%d debug=%v, want %q %d %v",
					*f.listen, *f.workers, *f.debug, tt.wantListen, tt.wantWorkers, tt.wantDebug)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , b ,", []string{"a", "b"}},
		{",,", nil},
		{"http://e1:2379, http://e2:2379", []string{"http://e1:2379", "http://e2:2379"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitList(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("SplitList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeKEK(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0xf0 + i) // high bytes give '+', '/' vs '-', '_' in the two alphabets
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"standard", base64.StdEncoding.EncodeToString(key), ""},
		{"standard unpadded", base64.RawStdEncoding.EncodeToString(key), ""},
		{"URL", base64.URLEncoding.EncodeToString(key), ""},
		{"URL unpadded", base64.RawURLEncoding.EncodeToString(key), ""},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(key) + "\n", ""},
		{"31 bytes", base64.StdEncoding.EncodeToString(key[:31]), "32 bytes"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(key, 1)), "32 bytes"},
		{"not base64", "this is not base64!", "not base64"},
		{"empty", "", "32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeKEK(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeKEK = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeKEK: %v", err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("DecodeKEK = %x, want %x", got, key)
			}
		})
	}
}

// unsetenv removes key for the rest of the test; call t.Setenv(key, ...) first so the old value
// comes back afterwards.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
