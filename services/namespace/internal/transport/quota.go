package transport

import (
	"context"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Quotas (SMH API section 6): the handlers convert the JSON body, call one use case each.

// quotaPatch reads a quota body: capacity as a number or a decimal string of bytes (6.1),
// spaces as a list of strings (absent = unchanged). Anything else is a 400 that names the field.
func quotaPatch(b *namespacev1.QuotaBody) (app.QuotaPatch, error) {
	var out app.QuotaPatch
	if b == nil {
		return out, nil
	}
	if list := b.GetSpaces(); list != nil {
		out.Spaces = make([]string, 0, len(list.GetValues()))
		for _, v := range list.GetValues() {
			s, ok := v.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return app.QuotaPatch{}, &app.InputError{Err: app.ErrQuotaSpacesInvalid, Reason: "spaces must be a list of space ids"}
			}
			out.Spaces = append(out.Spaces, s.StringValue)
		}
	}
	capacity, err := capacityOf(b.GetCapacity())
	if err != nil {
		return app.QuotaPatch{}, err
	}
	out.Capacity = capacity
	out.RemoveWhenExceed = b.RemoveWhenExceed
	out.RemoveNewest = b.RemoveNewest
	if b.RemoveAfterDays != nil {
		days := int(b.GetRemoveAfterDays())
		out.RemoveAfterDays = &days
	}
	return out, nil
}

// capacityOf reads capacity (6.1): absent or null = not given.
func capacityOf(v *structpb.Value) (*int64, error) {
	return wholeBytes("capacity", v)
}

func (s *Server) CreateQuota(ctx context.Context, req *namespacev1.CreateQuotaRequest) (*namespacev1.CreateQuotaResponse, error) {
	patch, err := quotaPatch(req.GetBody())
	if err != nil {
		return nil, toStatus(err)
	}
	id, err := s.ns.CreateQuota(ctx, req.GetLibraryId(), patch)
	if err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusCreated)
	return &namespacev1.CreateQuotaResponse{QuotaId: id}, nil
}

func (s *Server) GetQuota(ctx context.Context, req *namespacev1.GetQuotaRequest) (*namespacev1.GetQuotaResponse, error) {
	ref, q, err := s.ns.GetQuota(ctx, req.GetLibraryId(), req.GetSpaceOrQuotaId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetQuotaResponse{Capacity: q.Capacity}
	if ref.SpaceID != "" {
		resp.Id = proto.Int32(q.ID)
		return resp, nil
	}
	resp.Spaces = &structpb.ListValue{}
	for _, sp := range q.Spaces {
		resp.Spaces.Values = append(resp.Spaces.Values, structpb.NewStringValue(sp))
	}
	return resp, nil
}

func (s *Server) GetSpaceQuota(ctx context.Context, req *namespacev1.GetSpaceQuotaRequest) (*namespacev1.GetSpaceQuotaResponse, error) {
	q, err := s.ns.GetSpaceQuota(ctx, req.GetLibraryId(), req.GetSpaceId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetSpaceQuotaResponse{Id: q.ID, Capacity: q.Capacity}, nil
}

func (s *Server) UpdateQuota(ctx context.Context, req *namespacev1.UpdateQuotaRequest) (*namespacev1.UpdateQuotaResponse, error) {
	patch, err := quotaPatch(req.GetBody())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.ns.UpdateQuota(ctx, req.GetLibraryId(), req.GetSpaceOrQuotaId(), patch); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.UpdateQuotaResponse{}, nil
}

// bytesValue answers a byte count as SMH's usage answers carry it: a string, or null for
// "no quota" (decision 10).
func bytesValue(n *int64) *structpb.Value {
	if n == nil {
		return structpb.NewNullValue()
	}
	return structpb.NewStringValue(strconv.FormatInt(*n, 10))
}
