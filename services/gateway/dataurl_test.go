package gateway

import "testing"

func TestParseDataURL(t *testing.T) {
	const public = "https://media.example.com"
	tests := []struct {
		name, dataURL string
		wantHost      string
		wantErr       bool
	}{
		{"none", "", "", false},
		{"own host", "https://files.example-usercontent.com", "files.example-usercontent.com", false},
		{"own host and port", "https://files.example.net:8443/", "files.example.net:8443", false},
		{"plain http", "http://files.example.net", "", true},
		{"a path", "https://files.example.net/data", "", true},
		{"a query", "https://files.example.net/?a=b", "", true},
		{"no host", "https://", "", true},
		{"the public host", "https://media.example.com", "", true},
		{"the public host on another port", "https://MEDIA.example.com:9443", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDataURL(tt.dataURL, public)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDataURL(%q) error %v, want error %v", tt.dataURL, err, tt.wantErr)
			}
			host := ""
			if got != nil {
				host = got.Host
			}
			if host != tt.wantHost {
				t.Errorf("ParseDataURL(%q) host %q, want %q", tt.dataURL, host, tt.wantHost)
			}
		})
	}
}

func TestSameHost(t *testing.T) {
	tests := []struct {
		got, want string
		same      bool
	}{
		{"files.example.net", "files.example.net", true},
		{"FILES.example.net", "files.example.net", true},
		{"files.example.net:443", "files.example.net", true},
		{"files.example.net", "files.example.net:443", true},
		{"files.example.net:8443", "files.example.net", false},
		{"media.example.com", "files.example.net", false},
		{"files.example.net.evil.test", "files.example.net", false},
	}
	for _, tt := range tests {
		if got := sameHost(tt.got, tt.want); got != tt.same {
			t.Errorf("sameHost(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.same)
		}
	}
}
