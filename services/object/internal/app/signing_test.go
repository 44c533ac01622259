package app

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestUploadSignature(t *testing.T) {
	s := NewSigner("operator-key")
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	u := Upload{ID: "abc", LibraryID: "smhlib", SpaceID: "-"}
	auth := s.UploadAuthorization(u, now.Add(time.Hour))

	tests := []struct {
		name string
		u    Upload
		auth string
		now  time.Time
		want error
	}{
		{"valid", u, auth, now, nil},
		{"at expiry", u, auth, now.Add(time.Hour), nil},
		{"expired", u, auth, now.Add(time.Hour + time.Second), ErrSignatureExpired},
		{"another upload", Upload{ID: "abd", LibraryID: "smhlib", SpaceID: "-"}, auth, now, ErrSignatureInvalid},
		{"another space", Upload{ID: "abc", LibraryID: "smhlib", SpaceID: "s2"}, auth, now, ErrSignatureInvalid},
		{"another key", u, NewSigner("other").UploadAuthorization(u, now.Add(time.Hour)), now, ErrSignatureInvalid},
		{"later expiry claimed", u, strings.Replace(auth, "expires=", "expires=9", 1), now, ErrSignatureInvalid},
		{"missing", u, "", now, ErrSignatureMissing},
		{"other scheme", u, "Bearer x", now, ErrSignatureMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.VerifyUpload(tt.u, tt.auth, tt.now); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDownloadSignature(t *testing.T) {
	s := NewSigner("operator-key")
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	d := Download{LibraryID: "smhlib", SpaceID: "-", Key: "blobs/ab/abcd", Name: "年报 #1.pdf", ContentType: "application/pdf", BlobID: "abcd"}
	path := s.DownloadPath(d, now.Add(time.Minute))
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(u.Path, "/data/o/")
	got, err := s.VerifyDownload(key, u.Query(), now)
	if err != nil || got != d {
		t.Fatalf("verify: %+v %v", got, err)
	}
	for name, change := range map[string]func(url.Values){
		"name":        func(q url.Values) { q.Set("name", "other.pdf") },
		"type":        func(q url.Values) { q.Set("type", "text/html") },
		"disposition": func(q url.Values) { q.Set("disposition", "attachment") },
		"library":     func(q url.Values) { q.Set("library", "smhother") },
		"expiry":      func(q url.Values) { q.Set("expires", "99999999999") },
	} {
		q := u.Query()
		change(q)
		if _, err := s.VerifyDownload(key, q, now); !errors.Is(err, ErrSignatureInvalid) {
			t.Errorf("%s altered: %v", name, err)
		}
	}
	if _, err := s.VerifyDownload("blobs/ab/abce", u.Query(), now); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("key altered: %v", err)
	}
	if _, err := s.VerifyDownload(key, u.Query(), now.Add(2*time.Minute)); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("expired: %v", err)
	}
}
