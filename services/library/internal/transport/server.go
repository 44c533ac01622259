// Package transport serves smh.library.v1.LibraryService over gRPC. Each handler checks the
// operator key where the RPC needs it, reads the request, calls one use case and converts its
// error through errorMap; no rule of the domain lives here.
package transport

import (
	"context"
	"net/http"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/library/internal/app"
)

// Server implements LibraryService. Embedding the Unsafe interface makes a new RPC without a
// handler a build error rather than Unimplemented at run time (docs/decisions/0036-unsafe-server-embedding.md).
type Server struct {
	libraryv1.UnsafeLibraryServiceServer
	libs         *app.Libraries
	admin        *adminauth.Checker
	accessDomain string
}

var _ libraryv1.LibraryServiceServer = (*Server)(nil)

// New answers a server over the use cases. accessDomain is the host[:port] of the public URL that
// every library object names (docs/architecture.md, "The admin API").
func New(libs *app.Libraries, admin *adminauth.Checker, accessDomain string) *Server {
	return &Server{libs: libs, admin: admin, accessDomain: accessDomain}
}

// setStatus asks the gateway for a success status other than 200. It fails only outside a gRPC
// server call (a direct in-process call), where there is no HTTP answer to shape; the operation
// has already happened, so the answer stands either way.
func setStatus(ctx context.Context, code int) {
	_ = reqmeta.SetHTTPStatus(ctx, code)
}

// CreateLibrary answers 201 with the library and, this once, its secret.
func (s *Server) CreateLibrary(ctx context.Context, req *libraryv1.CreateLibraryRequest) (*libraryv1.CreateLibraryResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	settings, err := settingsPatch(req.GetLibraryExtension())
	if err != nil {
		return nil, toStatus(err)
	}
	created, err := s.libs.Create(ctx, app.NewLibrary{Name: req.GetName(), Remark: req.GetRemark(), Settings: settings})
	if err != nil {
		return nil, toStatus(err)
	}
	lib := libraryProto(created.Library, s.accessDomain)
	lib.LibrarySecret = &created.Secret
	setStatus(ctx, http.StatusCreated)
	return &libraryv1.CreateLibraryResponse{Library: lib}, nil
}

// ListLibraries answers a page of libraries, newest first, with the total count.
func (s *Server) ListLibraries(ctx context.Context, req *libraryv1.ListLibrariesRequest) (*libraryv1.ListLibrariesResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	page, err := s.libs.List(ctx, int(req.GetPage()), int(req.GetPageSize()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &libraryv1.ListLibrariesResponse{
		List:       make([]*libraryv1.Library, len(page.Libraries)),
		TotalCount: int32(page.TotalCount),
	}
	for i, lib := range page.Libraries {
		resp.List[i] = libraryProto(lib, s.accessDomain)
	}
	return resp, nil
}

// GetLibrary answers one library without its secret.
func (s *Server) GetLibrary(ctx context.Context, req *libraryv1.GetLibraryRequest) (*libraryv1.GetLibraryResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	lib, err := s.libs.Get(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.GetLibraryResponse{Library: libraryProto(lib, s.accessDomain)}, nil
}

// UpdateLibrary changes the fields present in the patch.
func (s *Server) UpdateLibrary(ctx context.Context, req *libraryv1.UpdateLibraryRequest) (*libraryv1.UpdateLibraryResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	patch := req.GetLibrary()
	settings, err := settingsPatch(patch.GetLibraryExtension())
	if err != nil {
		return nil, toStatus(err)
	}
	// An absent patch is an empty one; the getters would hide presence, so read the fields
	// directly only when there is a patch.
	p := app.Patch{Settings: settings}
	if patch != nil {
		p.Name, p.Remark = patch.Name, patch.Remark
	}
	lib, err := s.libs.Update(ctx, req.GetLibraryId(), p)
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.UpdateLibraryResponse{Library: libraryProto(lib, s.accessDomain)}, nil
}

// DeleteLibrary deletes the library and purges its tokens; answers 204.
func (s *Server) DeleteLibrary(ctx context.Context, req *libraryv1.DeleteLibraryRequest) (*libraryv1.DeleteLibraryResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := s.libs.Delete(ctx, req.GetLibraryId()); err != nil {
		return nil, toStatus(err)
	}
	setStatus(ctx, http.StatusNoContent)
	return &libraryv1.DeleteLibraryResponse{}, nil
}

// GetLibrarySecret answers the library's secret.
func (s *Server) GetLibrarySecret(ctx context.Context, req *libraryv1.GetLibrarySecretRequest) (*libraryv1.GetLibrarySecretResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	secret, err := s.libs.Secret(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.GetLibrarySecretResponse{
		Secret: &libraryv1.LibrarySecret{LibraryId: req.GetLibraryId(), LibrarySecret: secret},
	}, nil
}

// ResetLibrarySecret replaces the secret; the old one is refused from then on. revokeTokens also
// revokes every token of the earlier secrets (absent or false keeps them).
func (s *Server) ResetLibrarySecret(ctx context.Context, req *libraryv1.ResetLibrarySecretRequest) (*libraryv1.ResetLibrarySecretResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	secret, err := s.libs.ResetSecret(ctx, req.GetLibraryId(), req.GetRevokeTokens())
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.ResetLibrarySecretResponse{
		Secret: &libraryv1.LibrarySecret{LibraryId: req.GetLibraryId(), LibrarySecret: secret},
	}, nil
}

// VerifyLibrarySecret checks an id and secret pair for the services (operator key): authtoken
// to mint tokens (SMH API section 1.1), the others for library_secret on business calls
// (decision 4). On the public port it would be a secret-guessing oracle beside the business API.
func (s *Server) VerifyLibrarySecret(ctx context.Context, req *libraryv1.VerifyLibrarySecretRequest) (*libraryv1.VerifyLibrarySecretResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	access, err := s.libs.Verify(ctx, req.GetLibraryId(), req.GetLibrarySecret())
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.VerifyLibrarySecretResponse{Access: accessProto(access)}, nil
}

// GetLibraryAccess answers a library's access facts to internal callers holding the operator key.
func (s *Server) GetLibraryAccess(ctx context.Context, req *libraryv1.GetLibraryAccessRequest) (*libraryv1.GetLibraryAccessResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	access, err := s.libs.Access(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &libraryv1.GetLibraryAccessResponse{Access: accessProto(access)}, nil
}
