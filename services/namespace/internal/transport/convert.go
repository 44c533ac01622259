package transport

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// extensionPatch reads a request's extension: scalars by presence; lists and the tag as
// google.protobuf.Value, where null clears and a missing field keeps (2.6).
func extensionPatch(e *namespacev1.SpaceExtension) (app.ExtensionPatch, error) {
	var p app.ExtensionPatch
	if e == nil {
		return p, nil
	}
	p.IsPublicRead, p.IsMultiAlbum = e.IsPublicRead, e.IsMultiAlbum
	p.AllowPhoto, p.AllowVideo = e.AllowPhoto, e.AllowVideo
	p.RecognizeSensitiveContent = e.RecognizeSensitiveContent
	var err error
	for _, f := range []struct {
		name string
		v    *structpb.Value
		dst  **[]string
	}{
		{"allowPhotoExtname", e.GetAllowPhotoExtname(), &p.AllowPhotoExtname},
		{"allowVideoExtname", e.GetAllowVideoExtname(), &p.AllowVideoExtname},
		{"allowFileExtname", e.GetAllowFileExtname(), &p.AllowFileExtname},
	} {
		if *f.dst, err = stringList(f.name, f.v); err != nil {
			return p, err
		}
	}
	if v := e.GetSpaceTag(); v != nil {
		switch k := v.GetKind().(type) {
		case *structpb.Value_NullValue:
			p.SpaceTag = proto.String("")
		case *structpb.Value_StringValue:
			p.SpaceTag = proto.String(k.StringValue)
		default:
			return p, &app.InputError{Err: app.ErrParamInvalid, Reason: "spaceTag must be a string or null"}
		}
	}
	return p, nil
}

func stringList(name string, v *structpb.Value) (*[]string, error) {
	if v == nil {
		return nil, nil
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		empty := []string{}
		return &empty, nil
	case *structpb.Value_ListValue:
		out := make([]string, 0, len(k.ListValue.GetValues()))
		for _, item := range k.ListValue.GetValues() {
			s, ok := item.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return nil, &app.InputError{Err: app.ErrParamInvalid, Reason: name + " must be a list of strings"}
			}
			out = append(out, s.StringValue)
		}
		return &out, nil
	}
	return nil, &app.InputError{Err: app.ErrParamInvalid, Reason: name + " must be a list of strings or null"}
}

func listValue(items []string) *structpb.Value {
	l := &structpb.ListValue{Values: make([]*structpb.Value, 0, len(items))}
	for _, it := range items {
		l.Values = append(l.Values, structpb.NewStringValue(it))
	}
	return structpb.NewListValue(l)
}

// extensionProto answers a space's settings with every field; spaceTag only when set (2.5).
func extensionProto(ext app.SpaceExtension) *namespacev1.SpaceExtension {
	out := &namespacev1.SpaceExtension{
		IsPublicRead:              proto.Bool(ext.IsPublicRead),
		IsMultiAlbum:              proto.Bool(ext.IsMultiAlbum),
		AllowPhoto:                proto.Bool(ext.AllowPhoto),
		AllowVideo:                proto.Bool(ext.AllowVideo),
		AllowPhotoExtname:         listValue(ext.AllowPhotoExtname),
		AllowVideoExtname:         listValue(ext.AllowVideoExtname),
		AllowFileExtname:          listValue(ext.AllowFileExtname),
		RecognizeSensitiveContent: proto.Bool(ext.RecognizeSensitiveContent),
	}
	if ext.SpaceTag != "" {
		out.SpaceTag = structpb.NewStringValue(ext.SpaceTag)
	}
	return out
}
