package transport

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/services/library/internal/app"
)

// creationTimeLayout is ISO-8601 UTC with milliseconds, as SMH writes times
// (docs/architecture.md, "The admin API", e.g. 2020-10-14T10:17:57.953Z).
const creationTimeLayout = "2006-01-02T15:04:05.000Z"

// libraryProto answers a library with every extension field and its usage figures filled in.
func libraryProto(lib app.Library, accessDomain string) *libraryv1.Library {
	return &libraryv1.Library{
		LibraryId:        lib.ID,
		Name:             lib.Name,
		Remark:           lib.Remark,
		CreationTime:     lib.CreatedAt.UTC().Format(creationTimeLayout),
		AccessDomain:     accessDomain,
		LibraryExtension: extensionProto(lib.Settings),
		Size:             lib.Usage.Size,
		DirNum:           lib.Usage.DirNum,
		FileNum:          lib.Usage.FileNum,
	}
}

func extensionProto(s app.Settings) *libraryv1.LibraryExtension {
	return &libraryv1.LibraryExtension{
		IsFileLibrary:             proto.Bool(s.IsFileLibrary),
		IsMultiSpace:              proto.Bool(s.IsMultiSpace),
		IsMultiAlbum:              proto.Bool(s.IsMultiAlbum),
		IsPublicRead:              proto.Bool(s.IsPublicRead),
		AllowPhoto:                proto.Bool(s.AllowPhoto),
		AllowVideo:                proto.Bool(s.AllowVideo),
		AllowPhotoExtname:         listProto(s.AllowPhotoExtname),
		AllowVideoExtname:         listProto(s.AllowVideoExtname),
		AllowFileExtname:          listProto(s.AllowFileExtname),
		UseRecycleBin:             proto.Bool(s.UseRecycleBin),
		AutoRemoveRecycledDays:    proto.Uint32(s.AutoRemoveRecycledDays),
		EnableSearch:              proto.Bool(s.EnableSearch),
		EnableFileHistory:         proto.Bool(s.EnableFileHistory),
		FileHistoryCount:          proto.Uint32(s.FileHistoryCount),
		FileHistoryExpireDay:      proto.Uint32(s.FileHistoryExpireDay),
		MaxDirFileNameLength:      proto.Uint32(s.MaxDirFileNameLength),
		EnableQuota:               proto.Bool(s.EnableQuota),
		LibraryQuota:              proto.Uint64(s.LibraryQuota),
		DenyOnQuotaLessThanUsage:  proto.Bool(s.DenyOnQuotaLessThanUsage),
		RecognizeSensitiveContent: proto.Bool(s.RecognizeSensitiveContent),
		CorsAllowedOrigins:        listProto(s.CORSAllowedOrigins),
		EnableFileUncompress:      proto.Bool(s.EnableFileUncompress),
	}
}

// listProto answers a ListValue even for an empty list, so JSON shows [] rather than omitting it.
func listProto(items []string) *structpb.ListValue {
	l := &structpb.ListValue{Values: make([]*structpb.Value, len(items))}
	for i, it := range items {
		l.Values[i] = structpb.NewStringValue(it)
	}
	return l
}

func accessProto(a app.Access) *libraryv1.LibraryAccess {
	return &libraryv1.LibraryAccess{
		LibraryId:          a.LibraryID,
		IsFileLibrary:      a.IsFileLibrary,
		IsMultiSpace:       a.IsMultiSpace,
		IsMultiAlbum:       a.IsMultiAlbum,
		IsPublicRead:       a.IsPublicRead,
		CorsAllowedOrigins: append([]string{}, a.CORSAllowedOrigins...),
		SecretGeneration:   a.SecretGeneration,
	}
}

// settingsPatch reads the fields present in ext. A nil ext is an empty patch. List fields are
// ListValues (plain JSON arrays); an element that is not a string is refused.
func settingsPatch(ext *libraryv1.LibraryExtension) (app.SettingsPatch, error) {
	if ext == nil {
		return app.SettingsPatch{}, nil
	}
	p := app.SettingsPatch{
		IsFileLibrary:             ext.IsFileLibrary,
		IsMultiSpace:              ext.IsMultiSpace,
		IsMultiAlbum:              ext.IsMultiAlbum,
		IsPublicRead:              ext.IsPublicRead,
		AllowPhoto:                ext.AllowPhoto,
		AllowVideo:                ext.AllowVideo,
		UseRecycleBin:             ext.UseRecycleBin,
		AutoRemoveRecycledDays:    ext.AutoRemoveRecycledDays,
		EnableSearch:              ext.EnableSearch,
		EnableFileHistory:         ext.EnableFileHistory,
		FileHistoryCount:          ext.FileHistoryCount,
		FileHistoryExpireDay:      ext.FileHistoryExpireDay,
		MaxDirFileNameLength:      ext.MaxDirFileNameLength,
		EnableQuota:               ext.EnableQuota,
		LibraryQuota:              ext.LibraryQuota,
		DenyOnQuotaLessThanUsage:  ext.DenyOnQuotaLessThanUsage,
		RecognizeSensitiveContent: ext.RecognizeSensitiveContent,
		EnableFileUncompress:      ext.EnableFileUncompress,
	}
	lists := []struct {
		name string
		from *structpb.ListValue
		to   **[]string
	}{
		{"allowPhotoExtname", ext.AllowPhotoExtname, &p.AllowPhotoExtname},
		{"allowVideoExtname", ext.AllowVideoExtname, &p.AllowVideoExtname},
		{"allowFileExtname", ext.AllowFileExtname, &p.AllowFileExtname},
		{"corsAllowedOrigins", ext.CorsAllowedOrigins, &p.CORSAllowedOrigins},
	}
	for _, l := range lists {
		items, err := stringList(l.name, l.from)
		if err != nil {
			return app.SettingsPatch{}, err
		}
		*l.to = items
	}
	return p, nil
}

// stringList answers nil for an absent list, and the strings of a present one.
func stringList(name string, l *structpb.ListValue) (*[]string, error) {
	if l == nil {
		return nil, nil
	}
	items := make([]string, 0, len(l.GetValues()))
	for _, v := range l.GetValues() {
		sv, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return nil, &app.InputError{Err: app.ErrInvalidParam, Reason: name + " must be a list of strings"}
		}
		items = append(items, sv.StringValue)
	}
	return &items, nil
}
