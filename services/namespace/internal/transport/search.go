package transport

import (
	"context"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/proto"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Search handlers (SMH API section 8, docs/search.md): the SearchService, served beside
// NamespaceService by the same process.

// SearchServer implements namespacev1.SearchServiceServer.
type SearchServer struct {
	namespacev1.UnsafeSearchServiceServer
	s *Server
}

var _ namespacev1.SearchServiceServer = (*SearchServer)(nil)

// searchItemProto converts a hit: a listing item (entryProto) with its path (own name last),
// creator, file type and preview flags.
func searchItemProto(h app.SearchHit, withInode bool, favorites map[int64]bool) *namespacev1.SearchItem {
	n := h.Node
	e := entryProto(n, withInode)
	it := &namespacev1.SearchItem{
		Name: e.Name, Type: e.Type, CreationTime: e.CreationTime, ModificationTime: e.ModificationTime,
		ContentType: e.ContentType, Size: e.Size, ETag: e.ETag, Crc64: e.Crc64, MetaData: e.MetaData, Labels: e.Labels,
		LocalCreationTime: e.LocalCreationTime, LocalModificationTime: e.LocalModificationTime, Inode: e.Inode,
		Path: h.Path, UserId: n.UserID, Category: e.Category, VersionId: e.VersionId,
	}
	if !n.IsDir() {
		d := filetype.Describe(n.Name, n.ContentType)
		it.FileType, it.PreviewByCi, it.PreviewByDoc, it.PreviewAsIcon = &d.FileType, &d.PreviewByCI, &d.PreviewByDoc, &d.PreviewAsIcon
	}
	if favorites != nil {
		it.IsFavorite = proto.Bool(favorites[n.Inode])
	}
	return it
}

func searchItems(res app.SearchResult, withInode bool) []*namespacev1.SearchItem {
	out := make([]*namespacev1.SearchItem, 0, len(res.Hits))
	for _, h := range res.Hits {
		out = append(out, searchItemProto(h, withInode, res.Favorites))
	}
	return out
}

// legacyPage converts 8.1's page: items always carry their inode (the 2026 model); nextMarker
// is a JSON number, present only with hasMore.
func legacyPage(l app.LegacySearch) *namespacev1.LegacySearchPage {
	page := &namespacev1.LegacySearchPage{SearchId: l.ID, SearchFinished: true, Contents: searchItems(l.SearchResult, true)}
	if l.NextMarker > 0 {
		page.HasMore = true
		page.NextMarker = proto.Float64(float64(l.NextMarker))
	}
	return page
}

func (r *SearchServer) CreateLegacySearch(ctx context.Context, req *namespacev1.CreateLegacySearchRequest) (*namespacev1.CreateLegacySearchResponse, error) {
	l, err := r.s.ns.CreateLegacySearch(ctx, req.GetLibraryId(), req.GetSpaceId(), jsonBody(req.GetBody()), req.GetWithFavoriteStatus())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CreateLegacySearchResponse{Page: legacyPage(l)}, nil
}

func (r *SearchServer) ContinueLegacySearch(ctx context.Context, req *namespacev1.ContinueLegacySearchRequest) (*namespacev1.ContinueLegacySearchResponse, error) {
	l, err := r.s.ns.ContinueLegacySearch(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetSearchId(), req.GetMarker(), req.GetWithFavoriteStatus())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ContinueLegacySearchResponse{Page: legacyPage(l)}, nil
}

func (r *SearchServer) DeleteLegacySearch(ctx context.Context, req *namespacev1.DeleteLegacySearchRequest) (*namespacev1.DeleteLegacySearchResponse, error) {
	if err := r.s.ns.DeleteLegacySearch(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetSearchId()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.DeleteLegacySearchResponse{}, nil
}

func (r *SearchServer) SearchFs(ctx context.Context, req *namespacev1.SearchFsRequest) (*namespacev1.SearchFsResponse, error) {
	res, err := r.s.ns.SearchFs(ctx, req.GetLibraryId(), req.GetSpaceId(), jsonBody(req.GetBody()), app.SearchOptions{
		Limit: intPtr(req.Limit), Marker: req.GetMarker(), WithFavoriteStatus: req.GetWithFavoriteStatus(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.SearchFsResponse{Contents: searchItems(res, req.GetWithInode())}
	if res.NextMarker > 0 {
		resp.NextMarker = proto.String(strconv.FormatInt(res.NextMarker, 10))
	}
	return resp, nil
}

func aggregationProto(a app.AggregationResult) *namespacev1.AggregationResult {
	out := &namespacev1.AggregationResult{Field: a.Field, Operation: a.Operation}
	if a.Operation != "group" {
		out.Value = proto.Float64(a.Value)
		return out
	}
	out.Groups = make([]*namespacev1.AggregationGroup, 0, len(a.Groups))
	for _, g := range a.Groups {
		pg := &namespacev1.AggregationGroup{Value: g.Value, Count: float64(g.Count)}
		for _, sub := range g.Sub {
			pg.SubAggregations = append(pg.SubAggregations, aggregationProto(sub))
		}
		out.Groups = append(out.Groups, pg)
	}
	return out
}

func (r *SearchServer) SearchFsStats(ctx context.Context, req *namespacev1.SearchFsStatsRequest) (*namespacev1.SearchFsStatsResponse, error) {
	st, err := r.s.ns.SearchFsStats(ctx, req.GetLibraryId(), req.GetSpaceId(), jsonBody(req.GetBody()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.SearchFsStatsResponse{IsTruncated: st.IsTruncated, Aggregations: make([]*namespacev1.AggregationResult, 0, len(st.Results))}
	for _, a := range st.Results {
		resp.Aggregations = append(resp.Aggregations, aggregationProto(a))
	}
	return resp, nil
}

func (r *SearchServer) SearchAI(ctx context.Context, req *namespacev1.SearchAIRequest) (*namespacev1.SearchAIResponse, error) {
	return nil, toStatus(r.s.ns.SearchAI(ctx, req.GetLibraryId(), req.GetSpaceId()))
}
