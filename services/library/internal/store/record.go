package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/opensmh/opensmh/services/library/internal/app"
)

// record is the stored form of a library. It is separate from app.Library so that the domain type
// can change without silently changing what is in etcd; fields are only ever added.
type record struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Remark       string         `json:"remark"`
	CreationTime time.Time      `json:"creationTime"`
	Settings     settingsRecord `json:"settings"`
}

// settingsRecord has exactly the fields of app.Settings, so the two convert into each other and
// a field added to one without the other stops the build.
type settingsRecord struct {
	IsFileLibrary             bool     `json:"isFileLibrary"`
	IsMultiSpace              bool     `json:"isMultiSpace"`
	IsMultiAlbum              bool     `json:"isMultiAlbum"`
	IsPublicRead              bool     `json:"isPublicRead"`
	AllowPhoto                bool     `json:"allowPhoto"`
	AllowVideo                bool     `json:"allowVideo"`
	AllowPhotoExtname         []string `json:"allowPhotoExtname"`
	AllowVideoExtname         []string `json:"allowVideoExtname"`
	AllowFileExtname          []string `json:"allowFileExtname"`
	UseRecycleBin             bool     `json:"useRecycleBin"`
	AutoRemoveRecycledDays    uint32   `json:"autoRemoveRecycledDays"`
	EnableSearch              bool     `json:"enableSearch"`
	EnableFileHistory         bool     `json:"enableFileHistory"`
	FileHistoryCount          uint32   `json:"fileHistoryCount"`
	FileHistoryExpireDay      uint32   `json:"fileHistoryExpireDay"`
	MaxDirFileNameLength      uint32   `json:"maxDirFileNameLength"`
	EnableQuota               bool     `json:"enableQuota"`
	LibraryQuota              uint64   `json:"libraryQuota"`
	DenyOnQuotaLessThanUsage  bool     `json:"denyOnQuotaLessThanUsage"`
	RecognizeSensitiveContent bool     `json:"recognizeSensitiveContent"`
	CORSAllowedOrigins        []string `json:"corsAllowedOrigins"`
	// Absent in records written before the setting existed: off (docs/archives.md).
	EnableFileUncompress bool `json:"enableFileUncompress"`
}

func encodeLibrary(lib app.Library) ([]byte, error) {
	rec := record{
		ID:           lib.ID,
		Name:         lib.Name,
		Remark:       lib.Remark,
		CreationTime: lib.CreatedAt.UTC(),
		Settings:     listsNotNull(settingsRecord(lib.Settings)),
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode library %s: %w", lib.ID, err)
	}
	return b, nil
}

func decodeLibrary(b []byte) (app.Library, error) {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return app.Library{}, fmt.Errorf("decode library record: %w", err)
	}
	return app.Library{
		ID:        rec.ID,
		Name:      rec.Name,
		Remark:    rec.Remark,
		CreatedAt: rec.CreationTime.UTC(),
		Settings:  app.Settings(listsNotNull(rec.Settings)),
	}, nil
}

// listsNotNull makes absent lists empty, so that answers show [] rather than null.
func listsNotNull(s settingsRecord) settingsRecord {
	s.AllowPhotoExtname = orEmpty(s.AllowPhotoExtname)
	s.AllowVideoExtname = orEmpty(s.AllowVideoExtname)
	s.AllowFileExtname = orEmpty(s.AllowFileExtname)
	s.CORSAllowedOrigins = orEmpty(s.CORSAllowedOrigins)
	return s
}

// orEmpty makes an absent list empty: answers show [] rather than null (docs/architecture.md, "The admin API").
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
