package app

import (
	"context"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
)

// Favorites and recent files seen from the object service (SMH API 3.8, 3.9, 11.4,
// docs/favorites.md): the namespace keeps both lists; the file routes that read bytes are here.

// PurposePreview is the purpose value (3.8, 3.9) that puts a file on the caller's recently used
// files.
const PurposePreview = "preview"

// NotePreview records that the caller previewed a file it has just resolved (download or info
// with purpose=preview). The file was already served: a failure to record it is not the read's
// failure, so it is dropped and the list misses one entry.
func (o *Object) NotePreview(ctx context.Context, req FileRequest, f *namespacev1.StoredFile, purpose string) {
	if purpose != PurposePreview || f.GetInode() <= 0 {
		return
	}
	_ = o.ns.RecordRecentFile(ctx, &namespacev1.RecordRecentFileRequest{
		LibraryId: req.LibraryID, SpaceId: req.SpaceID, Inode: f.GetInode(), Action: PurposePreview,
	})
}

// IsFavorite answers whether the caller has favorited the file (3.9 with_favorite_status).
func (o *Object) IsFavorite(ctx context.Context, req FileRequest, f *namespacev1.StoredFile) (bool, error) {
	marks, err := o.ns.FavoriteStatus(ctx, &namespacev1.GetFavoriteStatusRequest{
		LibraryId: req.LibraryID, SpaceId: req.SpaceID, Inodes: []int64{f.GetInode()},
	})
	if err != nil {
		return false, peer(err)
	}
	return marks[f.GetInode()], nil
}
