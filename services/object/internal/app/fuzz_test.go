package app

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signedAt is the fixed clock of the signature fuzz targets; tickets and URLs expire an hour later.
var signedAt = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// isSignatureError reports whether err is one of the three answers a refused signature gets.
func isSignatureError(err error) bool {
	return errors.Is(err, ErrSignatureMissing) || errors.Is(err, ErrSignatureInvalid) || errors.Is(err, ErrSignatureExpired)
}

// FuzzVerifyUpload fuzzes the Authorization header of an upload ticket (decision 11) against
// two stored uploads: whatever the header, it verifies only when it carries the signature and
// expiry of that very upload's ticket and the ticket has not expired.
func FuzzVerifyUpload(f *testing.F) {
	s := NewSigner("fuzz operator key")
	exp := signedAt.Add(time.Hour)
	uploads := []Upload{
		{ID: "u-0001", LibraryID: "smhlib", SpaceID: "-"},
		{ID: "u-0002", LibraryID: "smhlib", SpaceID: "-"},
	}
	auth := s.UploadAuthorization(uploads[0], exp)
	for _, seed := range []string{
		auth,
		strings.ToLower(auth),
		strings.Replace(auth, ",", " , ", 1),
		auth + ",signature=00",
		auth + ",expires=99999999999",
		strings.Replace(auth, "expires=", "expires=0", 1),
		strings.Replace(auth, "expires=", "expires=+", 1),
		strings.TrimSuffix(auth, auth[len(auth)-1:]),
		"OpenSMH-HMAC-SHA256 ",
		"OpenSMH-HMAC-SHA256 expires=,signature=",
		"OpenSMH-HMAC-SHA256 signature=" + strings.Repeat("0", 64) + ",expires=99999999999",
		"Bearer x", "", "\x00", "OpenSMH-HMAC-SHA256 " + strings.Repeat(",=", 1000),
	} {
		f.Add(seed, false, int64(0))
		f.Add(seed, true, int64(-60))
	}
	f.Add(auth, false, int64(3601))
	f.Fuzz(func(t *testing.T, authorization string, second bool, elapsed int64) {
		u := uploads[0]
		if second {
			u = uploads[1]
		}
		now := signedAt.Add(time.Duration(elapsed) * time.Second)
		err := s.VerifyUpload(u, authorization, now)
		if err != nil {
			if !isSignatureError(err) {
				t.Fatalf("VerifyUpload(%q) = %v", authorization, err)
			}
			return
		}
		ticket := s.UploadAuthorization(u, exp)
		signature := ticket[strings.Index(ticket, "signature="):]
		expires := "expires=" + strings.TrimPrefix(strings.Split(ticket, ",")[0], uploadAuthScheme+"expires=")
		if !strings.Contains(authorization, signature) || !strings.Contains(authorization, expires) {
			t.Fatalf("upload %s accepted %q, its ticket is %q", u.ID, authorization, ticket)
		}
		if now.After(exp) {
			t.Fatalf("ticket accepted %s after its expiry", now.Sub(exp))
		}
	})
}

// FuzzVerifyDownload fuzzes a signed download URL (decision 11): whatever the key and query, the
// URL verifies only for the key it was signed for, grants exactly what was signed (name, type,
// disposition, blob), and only until it expires.
func FuzzVerifyDownload(f *testing.F) {
	s := NewSigner("fuzz operator key")
	exp := signedAt.Add(time.Hour)
	signed := []Download{
		{LibraryID: "smhlib", SpaceID: "-", Key: "blobs/ab/abcd", Name: "年报 #1.pdf", ContentType: "application/pdf", BlobID: "abcd"},
		{LibraryID: "smhlib", SpaceID: "s2", Key: "blobs/cd/cdef", Name: "\u202egpj.exe", ContentType: "text/html", Attachment: true, BlobID: "cdef"},
	}
	for _, d := range signed {
		u, err := url.Parse(s.DownloadPath(d, exp))
		if err != nil {
			f.Fatal(err)
		}
		q := u.RawQuery
		for _, seed := range []struct{ key, query string }{
			{d.Key, q},
			{d.Key + "/", q},
			{strings.ToUpper(d.Key), q},
			{d.Key, q + "&name=other.pdf"},
			{d.Key, "name=other.pdf&" + q},
			{d.Key, q + "&disposition=attachment"},
			{d.Key, strings.Replace(q, "disposition=", "disposition=x", 1)},
			{d.Key, strings.Replace(q, "signature=", "signature=0", 1)},
			{d.Key, strings.Replace(q, "expires=", "expires=9", 1)},
			{d.Key, strings.Replace(q, "&", ";", -1)},
			{d.Key, "%zz&" + q},
			{"", ""},
		} {
			f.Add(seed.key, seed.query, int64(0))
		}
	}
	f.Fuzz(func(t *testing.T, key, rawQuery string, elapsed int64) {
		q, _ := url.ParseQuery(rawQuery) // as r.URL.Query() reads it: malformed pairs dropped
		now := signedAt.Add(time.Duration(elapsed) * time.Second)
		got, err := s.VerifyDownload(key, q, now)
		if err != nil {
			if !isSignatureError(err) {
				t.Fatalf("VerifyDownload(%q, %q) = %v", key, rawQuery, err)
			}
			return
		}
		granted := false
		for _, d := range signed {
			granted = granted || got == d
		}
		if !granted || got.Key != key {
			t.Fatalf("key %q with %q grants %+v, which was never signed", key, rawQuery, got)
		}
		if now.After(exp) {
			t.Fatalf("URL accepted %s after its expiry", now.Sub(exp))
		}
	})
}

// FuzzParseTrafficLimit fuzzes the per-request traffic_limit (3.8, docs/fileops.md): accepted
// only as a decimal whole number of bits per second within COS's range, answered in bytes
// (÷ 8); everything else is ParamInvalid.
func FuzzParseTrafficLimit(f *testing.F) {
	for _, seed := range []string{"", "819200", "838860800", "819199", "838860801", "8388608", "-1", "1e6", " 819200", "0x10"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseTrafficLimit(s)
		if err != nil {
			if !errors.Is(err, ErrParamInvalid) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if s == "" {
			if n != 0 {
				t.Fatalf("empty read as %d", n)
			}
			return
		}
		if n < minTrafficBits/8 || n > maxTrafficBits/8 {
			t.Fatalf("%q accepted as %d bytes/s", s, n)
		}
	})
}
