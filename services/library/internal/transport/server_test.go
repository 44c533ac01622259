package transport_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/library/internal/app"
	"github.com/opensmh/opensmh/services/library/internal/store"
	"github.com/opensmh/opensmh/services/library/internal/transport"
)

const (
	adminKey     = "operator-key-for-tests"
	accessDomain = "127.0.0.1:8443"
)

// recordingPurger stands in for authtoken at the Purger boundary and records its calls.
type recordingPurger struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (p *recordingPurger) PurgeLibrary(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, id)
	return p.fail
}

func (p *recordingPurger) setFail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

func (p *recordingPurger) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{}, p.calls...)
}

// fakeUsage stands in for the namespace at the UsageSource boundary: it answers the figures set
// for each id (zeros otherwise) or fail, and records the batches it was asked for.
type fakeUsage struct {
	mu      sync.Mutex
	figures map[string]app.Usage
	fail    error
	calls   [][]string
}

func (u *fakeUsage) Usage(_ context.Context, ids []string) (map[string]app.Usage, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, append([]string{}, ids...))
	if u.fail != nil {
		return nil, u.fail
	}
	out := map[string]app.Usage{}
	for _, id := range ids {
		if f, ok := u.figures[id]; ok {
			out[id] = f
		}
	}
	return out, nil
}

func (u *fakeUsage) set(id string, f app.Usage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.figures[id] = f
}

func (u *fakeUsage) setFail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fail = err
}

// Calls answers the batches asked since the last call, and forgets them.
func (u *fakeUsage) Calls() [][]string {
	u.mu.Lock()
	defer u.mu.Unlock()
	calls := u.calls
	u.calls = nil
	return calls
}

type harness struct {
	client  libraryv1.LibraryServiceClient
	purger  *recordingPurger
	revoker *recordingRevoker
	usage   *fakeUsage
	etcd    *clientv3.Client
}

// start serves the library service on a real TCP listener and dials it with a real client.
func start(t *testing.T) harness {
	t.Helper()
	purger := &recordingPurger{}
	revoker := &recordingRevoker{}
	usage := &fakeUsage{figures: map[string]app.Usage{}}
	cli := etcdtest.New(t)
	libs, err := app.New(app.Deps{
		Store:     store.New(cli),
		Purgers:   []app.Purger{purger},
		Tokens:    revoker,
		Usage:     usage,
		SecretKEK: bytes.Repeat([]byte{1}, 32),
		Clock:     clock.NewFake(time.Date(2020, 10, 14, 10, 17, 57, 953_123_456, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := grpctest.Serve(t, func(r grpc.ServiceRegistrar) {
		libraryv1.RegisterLibraryServiceServer(r, transport.New(libs, adminauth.NewChecker(adminKey), accessDomain))
	})
	return harness{client: libraryv1.NewLibraryServiceClient(conn), purger: purger, revoker: revoker, usage: usage, etcd: cli}
}

func admin() context.Context {
	return adminauth.Outgoing(context.Background(), adminKey)
}

// wantSMH asserts that err carries the SMH code (and gRPC code) expected, and that its message
// contains msg.
func wantSMH(t *testing.T, err error, grpcCode codes.Code, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := status.Code(err); got != grpcCode {
		t.Fatalf("gRPC code %v, want %v (%v)", got, grpcCode, err)
	}
	e := smherr.As(err)
	if e.Code != code {
		t.Fatalf("SMH code %q, want %q (%v)", e.Code, code, err)
	}
	if !strings.Contains(e.Message, msg) {
		t.Fatalf("message %q does not contain %q", e.Message, msg)
	}
}

func create(t *testing.T, c libraryv1.LibraryServiceClient, req *libraryv1.CreateLibraryRequest) *libraryv1.Library {
	t.Helper()
	resp, err := c.CreateLibrary(admin(), req)
	if err != nil {
		t.Fatalf("CreateLibrary: %v", err)
	}
	return resp.GetLibrary()
}

func strList(items ...string) *structpb.ListValue {
	l := &structpb.ListValue{}
	for _, it := range items {
		l.Values = append(l.Values, structpb.NewStringValue(it))
	}
	return l
}

func listStrings(l *structpb.ListValue) []string {
	out := []string{}
	for _, v := range l.GetValues() {
		out = append(out, v.GetStringValue())
	}
	return out
}

func TestAdminKeyRequired(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos"})
	id := lib.GetLibraryId()
	rpcs := map[string]func(context.Context) error{
		"CreateLibrary": func(ctx context.Context) error {
			_, err := h.client.CreateLibrary(ctx, &libraryv1.CreateLibraryRequest{Name: "x"})
			return err
		},
		"ListLibraries": func(ctx context.Context) error {
			_, err := h.client.ListLibraries(ctx, &libraryv1.ListLibrariesRequest{})
			return err
		},
		"GetLibrary": func(ctx context.Context) error {
			_, err := h.client.GetLibrary(ctx, &libraryv1.GetLibraryRequest{LibraryId: id})
			return err
		},
		"UpdateLibrary": func(ctx context.Context) error {
			_, err := h.client.UpdateLibrary(ctx, &libraryv1.UpdateLibraryRequest{LibraryId: id, Library: &libraryv1.LibraryPatch{Name: proto.String("y")}})
			return err
		},
		"DeleteLibrary": func(ctx context.Context) error {
			_, err := h.client.DeleteLibrary(ctx, &libraryv1.DeleteLibraryRequest{LibraryId: id})
			return err
		},
		"GetLibrarySecret": func(ctx context.Context) error {
			_, err := h.client.GetLibrarySecret(ctx, &libraryv1.GetLibrarySecretRequest{LibraryId: id})
			return err
		},
		"ResetLibrarySecret": func(ctx context.Context) error {
			_, err := h.client.ResetLibrarySecret(ctx, &libraryv1.ResetLibrarySecretRequest{LibraryId: id})
			return err
		},
		"GetLibraryAccess": func(ctx context.Context) error {
			_, err := h.client.GetLibraryAccess(ctx, &libraryv1.GetLibraryAccessRequest{LibraryId: id})
			return err
		},
	}
	keys := map[string]context.Context{
		"missing":    context.Background(),
		"wrong":      adminauth.Outgoing(context.Background(), adminKey+"x"),
		"not bearer": metadata.AppendToOutgoingContext(context.Background(), reqmeta.Authorization, adminKey),
	}
	for name, call := range rpcs {
		for kind, ctx := range keys {
			t.Run(name+" "+kind, func(t *testing.T) {
				wantSMH(t, call(ctx), codes.Unauthenticated, "InvalidAdminKey", "")
			})
		}
	}
	// Nothing above changed the library.
	got, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
	if err != nil || got.GetLibrary().GetName() != "photos" {
		t.Fatalf("library after refused calls: %v, %v", got, err)
	}
	if len(h.purger.Calls()) != 0 {
		t.Fatalf("purger called by a refused delete")
	}
}

func TestCreateLibrary(t *testing.T) {
	h := start(t)
	var header metadata.MD
	resp, err := h.client.CreateLibrary(admin(), &libraryv1.CreateLibraryRequest{Name: "photos", Remark: "family"}, grpc.Header(&header))
	if err != nil {
		t.Fatal(err)
	}
	if got := header.Get(reqmeta.HTTPStatus); len(got) != 1 || got[0] != "201" {
		t.Fatalf("HTTP status metadata = %v, want 201", got)
	}
	lib := resp.GetLibrary()
	if !regexp.MustCompile(`^smh[0-9a-z]{13}$`).MatchString(lib.GetLibraryId()) {
		t.Fatalf("libraryId %q", lib.GetLibraryId())
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43,}$`).MatchString(lib.GetLibrarySecret()) {
		t.Fatalf("librarySecret %q is not 32+ URL-safe bytes", lib.GetLibrarySecret())
	}
	if lib.GetCreationTime() != "2020-10-14T10:17:57.953Z" {
		t.Fatalf("creationTime %q", lib.GetCreationTime())
	}
	if lib.GetAccessDomain() != accessDomain || lib.GetName() != "photos" || lib.GetRemark() != "family" {
		t.Fatalf("library %v", lib)
	}
	want := &libraryv1.LibraryExtension{
		IsFileLibrary: proto.Bool(false), IsMultiSpace: proto.Bool(false), IsMultiAlbum: proto.Bool(false),
		IsPublicRead: proto.Bool(false), AllowPhoto: proto.Bool(true), AllowVideo: proto.Bool(true),
		AllowPhotoExtname: strList(), AllowVideoExtname: strList(), AllowFileExtname: strList(),
		UseRecycleBin: proto.Bool(false), AutoRemoveRecycledDays: proto.Uint32(0), EnableSearch: proto.Bool(false),
		EnableFileHistory: proto.Bool(false), FileHistoryCount: proto.Uint32(app.DefaultFileHistoryCount),
		FileHistoryExpireDay: proto.Uint32(0), MaxDirFileNameLength: proto.Uint32(255), EnableQuota: proto.Bool(false),
		LibraryQuota: proto.Uint64(0), DenyOnQuotaLessThanUsage: proto.Bool(false),
		RecognizeSensitiveContent: proto.Bool(false), CorsAllowedOrigins: strList(),
		EnableFileUncompress: proto.Bool(false), // off by default (docs/archives.md)
	}
	if !proto.Equal(lib.GetLibraryExtension(), want) {
		t.Fatalf("extension\n%v\nwant\n%v", lib.GetLibraryExtension(), want)
	}

	got, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: lib.GetLibraryId()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLibrary().LibrarySecret != nil {
		t.Fatal("GetLibrary carries a secret field")
	}
	lib.LibrarySecret = nil
	if !proto.Equal(got.GetLibrary(), lib) {
		t.Fatalf("GetLibrary\n%v\nwant\n%v", got.GetLibrary(), lib)
	}

	file := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "docs", LibraryExtension: &libraryv1.LibraryExtension{
		IsFileLibrary: proto.Bool(true), IsMultiSpace: proto.Bool(true),
		AllowFileExtname: strList("pdf", "docx"), CorsAllowedOrigins: strList("https://app.example.com", "http://localhost:3000"),
		EnableQuota: proto.Bool(true), LibraryQuota: proto.Uint64(1 << 30),
	}})
	ext := file.GetLibraryExtension()
	if !ext.GetIsFileLibrary() || !ext.GetIsMultiSpace() || ext.GetAllowPhoto() || ext.GetAllowVideo() ||
		ext.GetLibraryQuota() != 1<<30 || fmt.Sprint(listStrings(ext.GetAllowFileExtname())) != "[pdf docx]" ||
		len(ext.GetCorsAllowedOrigins().GetValues()) != 2 {
		t.Fatalf("file library extension %v", ext)
	}
}

func TestCreateLibraryRefusesBadInput(t *testing.T) {
	h := start(t)
	tests := []struct {
		name string
		req  *libraryv1.CreateLibraryRequest
		msg  string
	}{
		{"no name", &libraryv1.CreateLibraryRequest{}, "name"},
		{"blank name", &libraryv1.CreateLibraryRequest{Name: "   "}, "name"},
		{"long name", &libraryv1.CreateLibraryRequest{Name: strings.Repeat("n", 51)}, "name"},
		{"long remark", &libraryv1.CreateLibraryRequest{Name: "n", Remark: strings.Repeat("r", 251)}, "remark"},
		{"multi-album file library", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			IsFileLibrary: proto.Bool(true), IsMultiAlbum: proto.Bool(true)}}, "isMultiAlbum"},
		{"multi-album multi-tenant", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			IsMultiSpace: proto.Bool(true), IsMultiAlbum: proto.Bool(true)}}, "isMultiAlbum"},
		{"public multi-tenant", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			IsMultiSpace: proto.Bool(true), IsPublicRead: proto.Bool(true)}}, "isPublicRead"},
		{"quota without size", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			EnableQuota: proto.Bool(true)}}, "libraryQuota"},
		{"number in list", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			AllowPhotoExtname: &structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(1)}}}}, "allowPhotoExtname"},
		{"bad origin", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			CorsAllowedOrigins: strList("https://app.example.com/path")}}, "corsAllowedOrigins"},
		{"history count 0", &libraryv1.CreateLibraryRequest{Name: "n", LibraryExtension: &libraryv1.LibraryExtension{
			FileHistoryCount: proto.Uint32(0)}}, "fileHistoryCount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.CreateLibrary(admin(), tt.req)
			wantSMH(t, err, codes.InvalidArgument, "ParamInvalid", tt.msg)
		})
	}
	list, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{})
	if err != nil || list.GetTotalCount() != 0 {
		t.Fatalf("refused creates left libraries: %v, %v", list, err)
	}
}

func TestListLibraries(t *testing.T) {
	h := start(t)
	var newestFirst []string
	for i := range 12 {
		lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: fmt.Sprintf("lib %d", i)})
		newestFirst = append([]string{lib.GetLibraryId()}, newestFirst...)
	}
	tests := []struct {
		name       string
		page, size int32
		want       []string
	}{
		{"defaults", 0, 0, newestFirst[:10]},
		{"page 2 default size", 2, 0, newestFirst[10:]},
		{"size 5 page 2", 2, 5, newestFirst[5:10]},
		{"size 100", 1, 100, newestFirst},
		{"past the end", 3, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{Page: tt.page, PageSize: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetTotalCount() != 12 {
				t.Fatalf("totalCount %d", resp.GetTotalCount())
			}
			var got []string
			for _, l := range resp.GetList() {
				if l.GetLibrarySecret() != "" || l.GetAccessDomain() != accessDomain || l.GetLibraryExtension().AllowPhoto == nil {
					t.Fatalf("listed library %v", l)
				}
				got = append(got, l.GetLibraryId())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []struct{ page, size int32 }{{-1, 10}, {1, -1}, {1, 101}} {
		t.Run(fmt.Sprintf("refuses page %d size %d", bad.page, bad.size), func(t *testing.T) {
			_, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{Page: bad.page, PageSize: bad.size})
			wantSMH(t, err, codes.InvalidArgument, "ParamInvalid", "page")
		})
	}
}

// TestUsageFigures: the admin answers carry the usage source's figures, asked once per answer
// (a whole list page in one batch); creating a library and the internal access lookup ask
// nothing; a source that cannot answer fails the call instead of answering zeros.
func TestUsageFigures(t *testing.T) {
	h := start(t)
	var ids []string // newest first
	for i := range 3 {
		lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: fmt.Sprintf("lib %d", i)})
		if lib.GetSize() != 0 || lib.GetDirNum() != 0 || lib.GetFileNum() != 0 {
			t.Fatalf("a new library has figures: %v", lib)
		}
		ids = append([]string{lib.GetLibraryId()}, ids...)
	}
	if calls := h.usage.Calls(); len(calls) != 0 {
		t.Fatalf("create asked for usage: %v", calls)
	}
	figures := map[string]app.Usage{
		ids[0]: {Size: 1 << 40, DirNum: 2, FileNum: 3},
		ids[2]: {Size: 5, FileNum: 1},
	}
	for id, f := range figures {
		h.usage.set(id, f)
	}
	wantFigures := func(t *testing.T, l *libraryv1.Library) {
		t.Helper()
		f := figures[l.GetLibraryId()]
		if l.GetSize() != f.Size || l.GetDirNum() != f.DirNum || l.GetFileNum() != f.FileNum {
			t.Fatalf("%s: size %d dirNum %d fileNum %d, want %+v", l.GetLibraryId(), l.GetSize(), l.GetDirNum(), l.GetFileNum(), f)
		}
	}

	t.Run("get", func(t *testing.T) {
		for _, id := range ids {
			got, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
			if err != nil {
				t.Fatal(err)
			}
			wantFigures(t, got.GetLibrary())
			if calls := h.usage.Calls(); fmt.Sprint(calls) != fmt.Sprint([][]string{{id}}) {
				t.Fatalf("usage asked %v, want [[%s]]", calls, id)
			}
		}
	})
	t.Run("list asks once per page", func(t *testing.T) {
		resp, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range resp.GetList() {
			wantFigures(t, l)
		}
		if calls := h.usage.Calls(); fmt.Sprint(calls) != fmt.Sprint([][]string{ids}) {
			t.Fatalf("usage asked %v, want one batch %v", calls, ids)
		}
		resp, err = h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{Page: 2, PageSize: 2})
		if err != nil || len(resp.GetList()) != 1 {
			t.Fatalf("page 2: %v, %v", resp, err)
		}
		wantFigures(t, resp.GetList()[0])
		if calls := h.usage.Calls(); fmt.Sprint(calls) != fmt.Sprint([][]string{{ids[2]}}) {
			t.Fatalf("usage asked %v for page 2", calls)
		}
		if _, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{Page: 9}); err != nil {
			t.Fatal(err)
		}
		if calls := h.usage.Calls(); len(calls) != 0 {
			t.Fatalf("an empty page asked for usage: %v", calls)
		}
	})
	t.Run("update", func(t *testing.T) {
		got, err := h.client.UpdateLibrary(admin(), &libraryv1.UpdateLibraryRequest{LibraryId: ids[0], Library: &libraryv1.LibraryPatch{Remark: proto.String("r")}})
		if err != nil {
			t.Fatal(err)
		}
		wantFigures(t, got.GetLibrary())
	})
	t.Run("access asks nothing", func(t *testing.T) {
		h.usage.Calls()
		if _, err := h.client.GetLibraryAccess(admin(), &libraryv1.GetLibraryAccessRequest{LibraryId: ids[0]}); err != nil {
			t.Fatal(err)
		}
		if calls := h.usage.Calls(); len(calls) != 0 {
			t.Fatalf("GetLibraryAccess asked for usage: %v", calls)
		}
	})

	t.Run("source unavailable", func(t *testing.T) {
		h.usage.setFail(fmt.Errorf("namespace: %w", app.ErrUsageUnavailable))
		defer h.usage.setFail(nil)
		_, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: ids[0]})
		wantSMH(t, err, codes.Unavailable, "ServiceUnavailable", "usage")
		if e := smherr.As(err); e.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", e.Status)
		}
		_, err = h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{})
		wantSMH(t, err, codes.Unavailable, "ServiceUnavailable", "usage")
		_, err = h.client.UpdateLibrary(admin(), &libraryv1.UpdateLibraryRequest{LibraryId: ids[0], Library: &libraryv1.LibraryPatch{Name: proto.String("not written")}})
		wantSMH(t, err, codes.Unavailable, "ServiceUnavailable", "usage")
		// What does not show figures goes on working.
		if _, err := h.client.GetLibraryAccess(admin(), &libraryv1.GetLibraryAccessRequest{LibraryId: ids[0]}); err != nil {
			t.Fatalf("access while usage is down: %v", err)
		}
		if _, err := h.client.GetLibrarySecret(admin(), &libraryv1.GetLibrarySecretRequest{LibraryId: ids[0]}); err != nil {
			t.Fatalf("secret while usage is down: %v", err)
		}
		create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "while down"})

		h.usage.setFail(nil)
		got, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: ids[0]})
		if err != nil || got.GetLibrary().GetName() == "not written" {
			t.Fatalf("the refused update was written: %v, %v", got, err)
		}
	})
	t.Run("source broken", func(t *testing.T) {
		h.usage.setFail(errors.New("namespace refused the operator key"))
		defer h.usage.setFail(nil)
		_, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: ids[0]})
		wantSMH(t, err, codes.Internal, "InternalError", "")
	})
}

func TestGetLibraryNotFound(t *testing.T) {
	h := start(t)
	for _, id := range []string{"smh0000000000000", "", "../etc", "SMH0000000000000", "smh00000000000000"} {
		t.Run(id, func(t *testing.T) {
			_, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
			_, err = h.client.UpdateLibrary(admin(), &libraryv1.UpdateLibraryRequest{LibraryId: id, Library: &libraryv1.LibraryPatch{Name: proto.String("x")}})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
			_, err = h.client.GetLibrarySecret(admin(), &libraryv1.GetLibrarySecretRequest{LibraryId: id})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
			_, err = h.client.ResetLibrarySecret(admin(), &libraryv1.ResetLibrarySecretRequest{LibraryId: id})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
			_, err = h.client.GetLibraryAccess(admin(), &libraryv1.GetLibraryAccessRequest{LibraryId: id})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
			_, err = h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id})
			wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
		})
	}
}

func TestUpdateLibrary(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos", Remark: "keep", LibraryExtension: &libraryv1.LibraryExtension{
		AllowVideoExtname: strList("mp4"),
	}})
	id := lib.GetLibraryId()
	update := func(p *libraryv1.LibraryPatch) (*libraryv1.Library, error) {
		resp, err := h.client.UpdateLibrary(admin(), &libraryv1.UpdateLibraryRequest{LibraryId: id, Library: p})
		return resp.GetLibrary(), err
	}

	got, err := update(&libraryv1.LibraryPatch{Name: proto.String("pictures"), LibraryExtension: &libraryv1.LibraryExtension{
		UseRecycleBin: proto.Bool(true), AllowPhotoExtname: strList("jpg", "png"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ext := got.GetLibraryExtension()
	if got.GetName() != "pictures" || got.GetRemark() != "keep" || !ext.GetUseRecycleBin() ||
		fmt.Sprint(listStrings(ext.GetAllowPhotoExtname())) != "[jpg png]" ||
		fmt.Sprint(listStrings(ext.GetAllowVideoExtname())) != "[mp4]" || got.GetCreationTime() != lib.GetCreationTime() {
		t.Fatalf("after patch: %v", got)
	}

	// Sending back everything that was read is accepted, fixed fields included.
	if _, err := update(&libraryv1.LibraryPatch{Name: proto.String(got.GetName()), Remark: proto.String(got.GetRemark()), LibraryExtension: got.GetLibraryExtension()}); err != nil {
		t.Fatalf("round trip of a read library: %v", err)
	}

	// An empty list clears; an absent one stays.
	got, err = update(&libraryv1.LibraryPatch{LibraryExtension: &libraryv1.LibraryExtension{AllowVideoExtname: strList()}})
	if err != nil || len(got.GetLibraryExtension().GetAllowVideoExtname().GetValues()) != 0 ||
		len(got.GetLibraryExtension().GetAllowPhotoExtname().GetValues()) != 2 {
		t.Fatalf("clearing a list: %v, %v", got, err)
	}
	before := got

	refused := []struct {
		name      string
		ext       *libraryv1.LibraryExtension
		patch     *libraryv1.LibraryPatch
		grpc      codes.Code
		code, msg string
	}{
		{name: "isFileLibrary", ext: &libraryv1.LibraryExtension{IsFileLibrary: proto.Bool(true)}, grpc: codes.InvalidArgument, code: "ImmutableLibraryField", msg: "isFileLibrary is fixed at creation"},
		{name: "isMultiSpace", ext: &libraryv1.LibraryExtension{IsMultiSpace: proto.Bool(true)}, grpc: codes.InvalidArgument, code: "ImmutableLibraryField", msg: "isMultiSpace is fixed at creation"},
		{name: "isMultiAlbum", ext: &libraryv1.LibraryExtension{IsMultiAlbum: proto.Bool(true), UseRecycleBin: proto.Bool(false)}, grpc: codes.InvalidArgument, code: "ImmutableLibraryField", msg: "isMultiAlbum is fixed at creation"},
		{name: "enableQuota", ext: &libraryv1.LibraryExtension{EnableQuota: proto.Bool(true), LibraryQuota: proto.Uint64(10)}, grpc: codes.InvalidArgument, code: "ImmutableLibraryField", msg: "enableQuota is fixed at creation"},
		{name: "quota size without quota", ext: &libraryv1.LibraryExtension{LibraryQuota: proto.Uint64(10)}, grpc: codes.InvalidArgument, code: "ParamInvalid", msg: "libraryQuota"},
		{name: "allowPhoto with bad sibling", ext: &libraryv1.LibraryExtension{AllowPhoto: proto.Bool(false), MaxDirFileNameLength: proto.Uint32(256)}, grpc: codes.InvalidArgument, code: "ParamInvalid", msg: "maxDirFileNameLength"},
		{name: "blank name", patch: &libraryv1.LibraryPatch{Name: proto.String(" "), Remark: proto.String("changed")}, grpc: codes.InvalidArgument, code: "ParamInvalid", msg: "name"},
		{name: "number in list", ext: &libraryv1.LibraryExtension{CorsAllowedOrigins: &structpb.ListValue{Values: []*structpb.Value{structpb.NewBoolValue(true)}}}, grpc: codes.InvalidArgument, code: "ParamInvalid", msg: "corsAllowedOrigins"},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			p := tt.patch
			if p == nil {
				p = &libraryv1.LibraryPatch{LibraryExtension: tt.ext}
			}
			_, err := update(p)
			wantSMH(t, err, tt.grpc, tt.code, tt.msg)
			now, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
			if err != nil || !proto.Equal(now.GetLibrary(), before) {
				t.Fatalf("refused patch changed the library:\n%v\nwas\n%v", now.GetLibrary(), before)
			}
		})
	}

	// A patch without a library changes nothing and answers the library.
	got, err = update(nil)
	if err != nil || !proto.Equal(got, before) {
		t.Fatalf("empty patch: %v, %v", got, err)
	}
}

// TestConcurrentUpdates patches 20 different fields at once; every change must survive.
func TestConcurrentUpdates(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos", LibraryExtension: &libraryv1.LibraryExtension{
		EnableQuota: proto.Bool(true), LibraryQuota: proto.Uint64(100),
	}})
	patches := []*libraryv1.LibraryPatch{
		{Name: proto.String("renamed")},
		{Remark: proto.String("remarked")},
		{LibraryExtension: &libraryv1.LibraryExtension{IsPublicRead: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{AllowPhoto: proto.Bool(false)}},
		{LibraryExtension: &libraryv1.LibraryExtension{AllowVideo: proto.Bool(false)}},
		{LibraryExtension: &libraryv1.LibraryExtension{AllowPhotoExtname: strList("jpg")}},
		{LibraryExtension: &libraryv1.LibraryExtension{AllowVideoExtname: strList("mp4")}},
		{LibraryExtension: &libraryv1.LibraryExtension{AllowFileExtname: strList("pdf")}},
		{LibraryExtension: &libraryv1.LibraryExtension{UseRecycleBin: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{AutoRemoveRecycledDays: proto.Uint32(30)}},
		{LibraryExtension: &libraryv1.LibraryExtension{EnableSearch: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{EnableFileHistory: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{FileHistoryCount: proto.Uint32(99)}},
		{LibraryExtension: &libraryv1.LibraryExtension{FileHistoryExpireDay: proto.Uint32(7)}},
		{LibraryExtension: &libraryv1.LibraryExtension{MaxDirFileNameLength: proto.Uint32(100)}},
		{LibraryExtension: &libraryv1.LibraryExtension{LibraryQuota: proto.Uint64(200)}},
		{LibraryExtension: &libraryv1.LibraryExtension{DenyOnQuotaLessThanUsage: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{RecognizeSensitiveContent: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{CorsAllowedOrigins: strList("https://app.example.com")}},
		{LibraryExtension: &libraryv1.LibraryExtension{EnableFileUncompress: proto.Bool(true)}},
		{LibraryExtension: &libraryv1.LibraryExtension{IsMultiSpace: proto.Bool(false), EnableQuota: proto.Bool(true)}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(patches))
	for _, p := range patches {
		wg.Go(func() {
			_, err := h.client.UpdateLibrary(admin(), &libraryv1.UpdateLibraryRequest{LibraryId: lib.GetLibraryId(), Library: p})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: lib.GetLibraryId()})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetLibrary()
	want := &libraryv1.LibraryExtension{
		IsFileLibrary: proto.Bool(false), IsMultiSpace: proto.Bool(false), IsMultiAlbum: proto.Bool(false),
		IsPublicRead: proto.Bool(true), AllowPhoto: proto.Bool(false), AllowVideo: proto.Bool(false),
		AllowPhotoExtname: strList("jpg"), AllowVideoExtname: strList("mp4"), AllowFileExtname: strList("pdf"),
		UseRecycleBin: proto.Bool(true), AutoRemoveRecycledDays: proto.Uint32(30), EnableSearch: proto.Bool(true),
		EnableFileHistory: proto.Bool(true), FileHistoryCount: proto.Uint32(99), FileHistoryExpireDay: proto.Uint32(7),
		MaxDirFileNameLength: proto.Uint32(100), EnableQuota: proto.Bool(true), LibraryQuota: proto.Uint64(200),
		DenyOnQuotaLessThanUsage: proto.Bool(true), RecognizeSensitiveContent: proto.Bool(true),
		CorsAllowedOrigins: strList("https://app.example.com"), EnableFileUncompress: proto.Bool(true),
	}
	if got.GetName() != "renamed" || got.GetRemark() != "remarked" || !proto.Equal(got.GetLibraryExtension(), want) {
		t.Fatalf("after concurrent patches:\n%v\nwant extension\n%v", got, want)
	}
}

func TestDeleteLibrary(t *testing.T) {
	h := start(t)
	keep := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "keep"})
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "gone"})
	id := lib.GetLibraryId()

	var header metadata.MD
	if _, err := h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get(reqmeta.HTTPStatus); len(got) != 1 || got[0] != "204" {
		t.Fatalf("HTTP status metadata = %v, want 204", got)
	}
	if calls := h.purger.Calls(); len(calls) != 1 || calls[0] != id {
		t.Fatalf("purger calls %v, want [%s]", calls, id)
	}
	_, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
	wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
	_, err = h.client.VerifyLibrarySecret(admin(), &libraryv1.VerifyLibrarySecretRequest{LibraryId: id, LibrarySecret: lib.GetLibrarySecret()})
	wantSMH(t, err, codes.NotFound, "WrongLibraryIdOrSecret", "")
	_, err = h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id})
	wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
	if calls := h.purger.Calls(); len(calls) != 1 {
		t.Fatalf("delete of an absent library purged tokens: %v", calls)
	}
	list, err := h.client.ListLibraries(admin(), &libraryv1.ListLibrariesRequest{})
	if err != nil || list.GetTotalCount() != 1 || list.GetList()[0].GetLibraryId() != keep.GetLibraryId() {
		t.Fatalf("list after delete: %v, %v", list, err)
	}
}

// TestDeleteResumesFailedPurge: when authtoken cannot purge, the library is already unusable,
// the caller sees an internal error without authtoken's text, and deleting again finishes.
func TestDeleteResumesFailedPurge(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "gone"})
	id := lib.GetLibraryId()

	h.purger.setFail(status.Error(codes.Unauthenticated, "authtoken says no"))
	_, err := h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id})
	wantSMH(t, err, codes.Internal, "InternalError", "")
	if strings.Contains(err.Error(), "authtoken says no") {
		t.Fatalf("internal detail reached the caller: %v", err)
	}
	_, err = h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: id})
	wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")

	h.purger.setFail(nil)
	if _, err := h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id}); err != nil {
		t.Fatalf("resumed delete: %v", err)
	}
	if calls := h.purger.Calls(); len(calls) != 2 || calls[1] != id {
		t.Fatalf("purger calls %v", calls)
	}
	_, err = h.client.DeleteLibrary(admin(), &libraryv1.DeleteLibraryRequest{LibraryId: id})
	wantSMH(t, err, codes.NotFound, "LibraryNotFound", "")
}

func TestSecrets(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos", LibraryExtension: &libraryv1.LibraryExtension{
		IsMultiAlbum: proto.Bool(true), IsPublicRead: proto.Bool(true), CorsAllowedOrigins: strList("https://app.example.com"),
	}})
	id, first := lib.GetLibraryId(), lib.GetLibrarySecret()
	// Encrypted at rest: no key or value in etcd holds the secret, in any common encoding.
	all, err := h.etcd.Get(context.Background(), "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range all.Kvs {
		for _, form := range []string{first, base64.StdEncoding.EncodeToString([]byte(first)), hex.EncodeToString([]byte(first))} {
			if bytes.Contains(kv.Key, []byte(form)) || bytes.Contains(kv.Value, []byte(form)) {
				t.Fatalf("etcd key %s holds the secret in the clear", kv.Key)
			}
		}
	}
	verify := func(id, secret string) (*libraryv1.LibraryAccess, error) {
		resp, err := h.client.VerifyLibrarySecret(admin(), &libraryv1.VerifyLibrarySecretRequest{LibraryId: id, LibrarySecret: secret})
		return resp.GetAccess(), err
	}
	// The secret alone is not enough: only the services ask (operator key).
	_, err = h.client.VerifyLibrarySecret(context.Background(), &libraryv1.VerifyLibrarySecretRequest{LibraryId: id, LibrarySecret: first})
	wantSMH(t, err, codes.Unauthenticated, "InvalidAdminKey", "")

	got, err := h.client.GetLibrarySecret(admin(), &libraryv1.GetLibrarySecretRequest{LibraryId: id})
	if err != nil || got.GetSecret().GetLibraryId() != id || got.GetSecret().GetLibrarySecret() != first {
		t.Fatalf("GetLibrarySecret = %v, %v", got, err)
	}
	access, err := verify(id, first)
	wantAccess := &libraryv1.LibraryAccess{LibraryId: id, IsMultiAlbum: true, IsPublicRead: true, CorsAllowedOrigins: []string{"https://app.example.com"}}
	// Only Verify names the secret's generation: it is the secret's, not the library's.
	firstGeneration := access.GetSecretGeneration()
	verified := proto.CloneOf(wantAccess)
	verified.SecretGeneration = firstGeneration
	if err != nil || firstGeneration <= 0 || !proto.Equal(access, verified) {
		t.Fatalf("Verify = %v, %v; want %v with a positive secret generation", access, err, wantAccess)
	}
	ga, err := h.client.GetLibraryAccess(admin(), &libraryv1.GetLibraryAccessRequest{LibraryId: id})
	if err != nil || !proto.Equal(ga.GetAccess(), wantAccess) {
		t.Fatalf("GetLibraryAccess = %v, %v", ga, err)
	}

	refused := []struct {
		name, id, secret string
		grpc             codes.Code
		code             string
	}{
		{"wrong secret", id, first + "x", codes.NotFound, "WrongLibraryIdOrSecret"},
		{"unknown library", "smh0000000000000", first, codes.NotFound, "WrongLibraryIdOrSecret"},
		{"malformed id", "nope", first, codes.NotFound, "WrongLibraryIdOrSecret"},
		{"empty id", "", first, codes.InvalidArgument, "EmptyLibraryId"},
		{"empty secret", id, "", codes.InvalidArgument, "EmptyLibrarySecret"},
		{"both empty", "", "", codes.InvalidArgument, "EmptyLibraryIdOrSecret"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(tt.id, tt.secret)
			wantSMH(t, err, tt.grpc, tt.code, "")
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}

	reset, err := h.client.ResetLibrarySecret(admin(), &libraryv1.ResetLibrarySecretRequest{LibraryId: id})
	if err != nil {
		t.Fatal(err)
	}
	second := reset.GetSecret().GetLibrarySecret()
	if second == "" || second == first || reset.GetSecret().GetLibraryId() != id {
		t.Fatalf("reset = %v", reset)
	}
	_, err = verify(id, first)
	wantSMH(t, err, codes.NotFound, "WrongLibraryIdOrSecret", "")
	if access, err := verify(id, second); err != nil || access.GetSecretGeneration() <= firstGeneration {
		t.Fatalf("new secret: %v, %v; want a generation above %d", access, err, firstGeneration)
	}
	// A reset without revokeTokens leaves the tokens alone.
	if calls := h.revoker.Calls(); len(calls) != 0 {
		t.Fatalf("a plain reset revoked tokens: %v", calls)
	}
	got, err = h.client.GetLibrarySecret(admin(), &libraryv1.GetLibrarySecretRequest{LibraryId: id})
	if err != nil || got.GetSecret().GetLibrarySecret() != second {
		t.Fatalf("GetLibrarySecret after reset = %v, %v", got, err)
	}
}

// TestInternalErrorsStayInternal: a store failure reaches the caller as InternalError, without
// etcd's text.
func TestInternalErrorsStayInternal(t *testing.T) {
	h := start(t)
	lib := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos"})
	if err := h.etcd.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.GetLibrary(admin(), &libraryv1.GetLibraryRequest{LibraryId: lib.GetLibraryId()})
	wantSMH(t, err, codes.Internal, "InternalError", "")
	if e := smherr.As(err); e.Status != http.StatusInternalServerError || e.Message != smherr.ErrInternal.Message {
		t.Fatalf("internal error answer %+v", e)
	}
}
