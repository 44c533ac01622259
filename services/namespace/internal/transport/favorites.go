package transport

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/proto"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Favorites and recently used files (SMH API section 11, docs/favorites.md): the
// FavoriteService, served beside NamespaceService by the same process.

// FavoriteServer implements namespacev1.FavoriteServiceServer.
type FavoriteServer struct {
	namespacev1.UnsafeFavoriteServiceServer
	s *Server
}

var _ namespacev1.FavoriteServiceServer = (*FavoriteServer)(nil)

func favoriteTarget(t *namespacev1.FavoriteTarget) app.FavoriteTarget {
	return app.FavoriteTarget{Path: t.GetPath(), Inode: jsonBody(t.GetInode())}
}

func (f *FavoriteServer) AddFavorite(ctx context.Context, req *namespacev1.AddFavoriteRequest) (*namespacev1.AddFavoriteResponse, error) {
	inode, err := f.s.ns.AddFavorite(ctx, req.GetLibraryId(), req.GetSpaceId(), favoriteTarget(req.GetTarget()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.AddFavoriteResponse{Inode: strconv.FormatInt(inode, 10)}, nil
}

func (f *FavoriteServer) CancelFavorite(ctx context.Context, req *namespacev1.CancelFavoriteRequest) (*namespacev1.CancelFavoriteResponse, error) {
	if err := f.s.ns.CancelFavorite(ctx, req.GetLibraryId(), req.GetSpaceId(), favoriteTarget(req.GetTarget())); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.CancelFavoriteResponse{}, nil
}

// favoriteItem converts a favorite (11.3): a deleted target has name "" and none of the
// entry's fields; a directory has no size, fileType or file fields.
func favoriteItem(fav app.Favorite, spaceID string) *namespacev1.FavoriteItem {
	out := &namespacev1.FavoriteItem{
		SpaceId: spaceID, Inode: strconv.FormatInt(fav.Inode, 10), UserId: fav.UserID,
		FavoriteTime: iso(fav.FavoritedAt),
	}
	if fav.Deleted {
		return out
	}
	n := fav.Node
	out.Name, out.Type = n.Name, proto.String(string(n.Type))
	out.CreationTime, out.ModificationTime = proto.String(iso(n.CreatedAt)), proto.String(iso(n.ModifiedAt))
	out.Labels = n.Labels
	if fav.Path != nil {
		out.Path = listValue(fav.Path).GetListValue()
	}
	if !n.IsDir() {
		d := filetype.Describe(n.Name, n.ContentType)
		out.Size, out.FileType = proto.Int64(n.Size), proto.String(d.FileType)
		out.ETag, out.Crc64, out.ContentType = proto.String(n.ETag), proto.String(n.CRC64), proto.String(n.ContentType)
		out.Category, out.MetaData = nonEmpty(n.Category), n.MetaData
		out.PreviewByDoc, out.PreviewByCi, out.PreviewAsIcon = proto.Bool(d.PreviewByDoc), proto.Bool(d.PreviewByCI), proto.Bool(d.PreviewAsIcon)
	}
	return out
}

func (f *FavoriteServer) ListFavorites(ctx context.Context, req *namespacev1.ListFavoritesRequest) (*namespacev1.ListFavoritesResponse, error) {
	l, err := f.s.ns.ListFavorites(ctx, req.GetLibraryId(), req.GetSpaceId(), app.FavoriteQuery{
		Marker: req.Marker, Limit: intPtr(req.Limit), Page: intPtr(req.Page), PageSize: intPtr(req.PageSize),
		OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(), WithPath: req.WithPath,
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListFavoritesResponse{Contents: make([]*namespacev1.FavoriteItem, 0, len(l.Page.Items))}
	for _, fav := range l.Page.Items {
		resp.Contents = append(resp.Contents, favoriteItem(fav, req.GetSpaceId()))
	}
	if l.PageMode {
		resp.TotalNum = proto.Int32(int32(min(l.Page.Total, math.MaxInt32)))
	} else {
		resp.NextMarker = nonEmpty(l.Page.NextMarker)
	}
	return resp, nil
}

func (f *FavoriteServer) ListRecentFiles(ctx context.Context, req *namespacev1.ListRecentFilesRequest) (*namespacev1.ListRecentFilesResponse, error) {
	q := req.GetQuery()
	if q == nil {
		q = &namespacev1.RecentFilesQuery{} // the body is optional (11.4)
	}
	page, err := f.s.ns.ListRecentFiles(ctx, req.GetLibraryId(), req.GetSpaceId(), app.RecentQuery{
		Marker: q.Marker, Limit: intPtr(q.Limit), FilterActionBy: q.GetFilterActionBy(),
		Type: jsonBody(q.GetType()), WithPath: q.GetWithPath(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListRecentFilesResponse{NextMarker: nonEmpty(page.NextMarker), Contents: make([]*namespacev1.RecentFile, 0, len(page.Items))}
	for _, it := range page.Items {
		rf := &namespacev1.RecentFile{
			Name: it.Node.Name, SpaceId: req.GetSpaceId(), Inode: strconv.FormatInt(it.Node.Inode, 10),
			Size: it.Node.Size, ActionType: string(it.Action), OperationTime: iso(it.OperatedAt),
			CreationTime: iso(it.Node.CreatedAt), Crc64: it.Node.CRC64,
		}
		if it.Path != nil {
			rf.Path = listValue(it.Path).GetListValue()
		}
		resp.Contents = append(resp.Contents, rf)
	}
	return resp, nil
}

// RecordRecentFile answers the object service (operator key, caller's credentials forwarded).
func (f *FavoriteServer) RecordRecentFile(ctx context.Context, req *namespacev1.RecordRecentFileRequest) (*namespacev1.RecordRecentFileResponse, error) {
	if err := f.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := f.s.ns.RecordRecentFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetInode(), req.GetAction()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.RecordRecentFileResponse{}, nil
}

// GetFavoriteStatus answers the object service (operator key, caller's credentials forwarded).
func (f *FavoriteServer) GetFavoriteStatus(ctx context.Context, req *namespacev1.GetFavoriteStatusRequest) (*namespacev1.GetFavoriteStatusResponse, error) {
	if err := f.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	marks, err := f.s.ns.FavoriteStatus(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetInodes())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetFavoriteStatusResponse{}
	for _, in := range req.GetInodes() {
		if marks[in] {
			resp.Favorited = append(resp.Favorited, in)
		}
	}
	return resp, nil
}

// markFavorites sets isFavorite on entries (with_favorite_status=1): one store query for the
// page.
func (s *Server) markFavorites(ctx context.Context, libraryID, spaceID string, nodes []app.Node, entries []*namespacev1.DirectoryEntry) error {
	inodes := make([]int64, 0, len(nodes))
	for _, n := range nodes {
		inodes = append(inodes, n.Inode)
	}
	marks, err := s.ns.FavoriteStatus(ctx, libraryID, spaceID, inodes)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		entries[i].IsFavorite = proto.Bool(marks[n.Inode])
	}
	return nil
}
