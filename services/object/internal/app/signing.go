package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/dataroute"
)

// Signature errors of the data endpoint (decision 11); it answers them as COS-style XML.
var (
	ErrSignatureMissing = errors.New("signature missing")
	ErrSignatureInvalid = errors.New("signature does not match")
	ErrSignatureExpired = errors.New("signature expired")
)

// Signer signs upload tickets and download URLs with HMAC-SHA256. Every replica of the object
// service must hold the same key; it is derived from the operator key, which they share already.
type Signer struct {
	key []byte
}

// NewSigner derives the signing key from secret, so the secret itself never signs anything
// readable by clients.
func NewSigner(secret string) *Signer {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("opensmh data endpoint v1"))
	return &Signer{key: m.Sum(nil)}
}

// sign MACs the fields, each length-prefixed so that no two field lists share a message.
func (s *Signer) sign(fields ...string) string {
	m := hmac.New(sha256.New, s.key)
	for _, f := range fields {
		m.Write([]byte(strconv.Itoa(len(f))))
		m.Write([]byte{':'})
		m.Write([]byte(f))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// uploadAuthScheme prefixes the Authorization header of a ticket. Clients copy ticket headers
// verbatim (3.1), so the scheme name only has to be ours.
const uploadAuthScheme = "OpenSMH-HMAC-SHA256 "

// UploadAuthorization is the Authorization header of a ticket for upload u until exp. It binds
// the library, space and upload (decision 11).
func (s *Signer) UploadAuthorization(u Upload, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return uploadAuthScheme + "expires=" + e + ",signature=" + s.sign("upload", u.LibraryID, u.SpaceID, u.ID, e)
}

// VerifyUpload checks an Authorization header (or the form fields' equivalent) against upload u.
func (s *Signer) VerifyUpload(u Upload, authorization string, now time.Time) error {
	rest, ok := strings.CutPrefix(authorization, uploadAuthScheme)
	if !ok {
		return ErrSignatureMissing
	}
	var exp, sig string
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "expires":
			exp = v
		case "signature":
			sig = v
		}
	}
	return s.check(sig, exp, now, "upload", u.LibraryID, u.SpaceID, u.ID, exp)
}

func (s *Signer) check(sig, exp string, now time.Time, fields ...string) error {
	if sig == "" || exp == "" {
		return ErrSignatureMissing
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(fields...))) {
		return ErrSignatureInvalid
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ErrSignatureInvalid
	}
	if now.Unix() > e {
		return ErrSignatureExpired
	}
	return nil
}

// Download is what a signed download URL grants: one blob-store key, served with these headers.
type Download struct {
	LibraryID   string
	SpaceID     string
	Key         string
	Name        string // for Content-Disposition
	ContentType string
	Attachment  bool
	// The x-smh-* facts echoed on the download (ETag, crc64) come from the blob record.
	BlobID string
	// Traffic paces the download to at most this many bytes per second; 0 = unpaced (2.10
	// setSpaceTrafficLimit, 3.8 traffic_limit; docs/fileops.md). Signed, so a client cannot
	// lift it.
	Traffic int64
}

// Download URL query keys.
const (
	qLibrary    = "library"
	qSpace      = "space"
	qName       = "name"
	qType       = "type"
	qDisp       = "disposition"
	qBlob       = "blob"
	qExpires    = "expires"
	qTraffic    = "traffic"
	qSignature  = "signature"
	attachValue = "attachment"
)

// DownloadPath answers the path and signed query of a download URL for d until exp. Download
// URLs carry their signature in the query string (decision 11), so they work in <img src>.
func (s *Signer) DownloadPath(d Download, exp time.Time) string {
	disp := "inline"
	if d.Attachment {
		disp = attachValue
	}
	e := strconv.FormatInt(exp.Unix(), 10)
	q := url.Values{}
	q.Set(qLibrary, d.LibraryID)
	q.Set(qSpace, d.SpaceID)
	q.Set(qName, d.Name)
	q.Set(qType, d.ContentType)
	q.Set(qDisp, disp)
	q.Set(qBlob, d.BlobID)
	q.Set(qExpires, e)
	fields := []string{"download", d.LibraryID, d.SpaceID, d.Key, d.Name, d.ContentType, disp, d.BlobID, e}
	if d.Traffic > 0 {
		// Only paced URLs sign the field, so URLs made before it existed stay valid; removing
		// the parameter from a paced URL breaks its signature.
		t := strconv.FormatInt(d.Traffic, 10)
		q.Set(qTraffic, t)
		fields = append(fields, qTraffic, t)
	}
	q.Set(qSignature, s.sign(fields...))
	return dataroute.DownloadPrefix + d.Key + "?" + q.Encode()
}

// VerifyDownload checks a download URL's key and query and answers what it grants.
func (s *Signer) VerifyDownload(key string, q url.Values, now time.Time) (Download, error) {
	d := Download{
		LibraryID: q.Get(qLibrary), SpaceID: q.Get(qSpace), Key: key, Name: q.Get(qName),
		ContentType: q.Get(qType), Attachment: q.Get(qDisp) == attachValue, BlobID: q.Get(qBlob),
	}
	fields := []string{"download", d.LibraryID, d.SpaceID, key, d.Name, d.ContentType, q.Get(qDisp), d.BlobID, q.Get(qExpires)}
	if q.Has(qTraffic) {
		fields = append(fields, qTraffic, q.Get(qTraffic))
	}
	if err := s.check(q.Get(qSignature), q.Get(qExpires), now, fields...); err != nil {
		return Download{}, err
	}
	if q.Has(qTraffic) {
		t, err := strconv.ParseInt(q.Get(qTraffic), 10, 64)
		if err != nil || t <= 0 {
			return Download{}, ErrSignatureInvalid // signed by us, so never; refused all the same
		}
		d.Traffic = t
	}
	return d, nil
}
