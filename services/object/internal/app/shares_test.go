package app

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// sharedFileSource answers ResolveSharedFile with one file and records the calls: the
// namespace's judgement itself is tested end to end (tests/e2e/share_fetch_test.go).
type sharedFileSource struct {
	sharedTreeSource
	file  *namespacev1.StoredFile
	asked []*namespacev1.ResolveSharedFileRequest
}

func (s *sharedFileSource) ResolveSharedFile(_ context.Context, in *namespacev1.ResolveSharedFileRequest) (*namespacev1.ResolveSharedFileResponse, error) {
	s.asked = append(s.asked, in)
	return &namespacev1.ResolveSharedFileResponse{LibraryId: "smhlib", SpaceId: "-", File: s.file}, nil
}

func newShareObject(file *namespacev1.FileObject, limiter Limiter, now *clock.Fake) (*Object, *sharedFileSource) {
	src := &sharedFileSource{file: &namespacev1.StoredFile{BlobId: strings.Repeat("ab", 16), File: file}}
	return New(Config{Signer: NewSigner("share test key"), Domain: "data.test", Shares: src, Visitors: limiter, Clock: now}), src
}

func TestVisitorURLs(t *testing.T) {
	now := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	o, src := newShareObject(&namespacev1.FileObject{Name: "report.pdf", ContentType: "application/pdf"}, nil, now)
	req := SharedFileRequest{ShareCode: "code1", Inodes: "12/34", ClientAddress: "192.0.2.1"}

	loc, err := o.DownloadShared(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if exp := q.Get("expires"); exp != strconv.FormatInt(now.Now().Add(10*time.Minute).Unix(), 10) {
		t.Fatalf("a visitor's URL expires at %s, want ten minutes on", exp)
	}
	if q.Get("disposition") != "attachment" || u.Host != "data.test" {
		t.Fatalf("download URL %s", loc.URL)
	}
	if len(src.asked) != 1 || src.asked[0].GetPurpose() != "download" || src.asked[0].GetInodes() != "12/34" || src.asked[0].GetShareCode() != "code1" {
		t.Fatalf("asked the namespace %v", src.asked)
	}

	// A PDF is no preview: the data endpoint would hand it out as an attachment.
	if _, err := o.PreviewShared(context.Background(), req, media.ThumbOptions{}); !errors.Is(err, ErrNotViewable) {
		t.Fatalf("preview of a PDF: %v", err)
	}
	// No file at the end of an empty chain: refused before the namespace is asked.
	asked := len(src.asked)
	if _, err := o.DownloadShared(context.Background(), SharedFileRequest{ShareCode: "code1"}); !errors.Is(err, ErrParamInvalid) {
		t.Fatalf("empty chain: %v", err)
	}
	if _, err := o.DownloadShared(context.Background(), SharedFileRequest{ShareCode: "code1", Inodes: "12/x"}); !errors.Is(err, ErrBadInodeChain) {
		t.Fatalf("bad chain: %v", err)
	}
	if len(src.asked) != asked {
		t.Fatal("a refused chain reached the namespace")
	}
}

func TestVisitorRateLimitPerShareAndAddress(t *testing.T) {
	now := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	limiter := ratelimit.NewShareVisitors(ratelimit.ShareLimits{Visits: ratelimit.Rate{Events: 1, Per: time.Second, Burst: 2}}, ratelimit.WithClock(now))
	o, _ := newShareObject(&namespacev1.FileObject{Name: "a.txt", ContentType: "text/plain"}, limiter, now)
	get := func(code, addr string) error {
		_, err := o.DownloadShared(context.Background(), SharedFileRequest{ShareCode: code, Inodes: "1", ClientAddress: addr})
		return err
	}
	for i := range 2 {
		if err := get("code1", "192.0.2.1"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := get("code1", "192.0.2.1"); !errors.Is(err, ErrVisitorRateLimited) {
		t.Fatalf("third request: %v", err)
	}
	// Another share, another address: buckets of their own.
	if err := get("code2", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := get("code1", "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	now.Advance(time.Second)
	if err := get("code1", "192.0.2.1"); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}
