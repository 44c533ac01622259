package dispatch

import (
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
)

// Routes is the SMH dispatcher table: the one place where the public SMH business API is listed
// (docs/architecture.md, "The public edge"). SMH picks an operation by method, path shape, flag query
// keys (present with or without a value) and, for PUT on a file, by a key of the JSON body;
// grpc-gateway routes by method and path only, so each row names the internal grpc-gateway route
// (proto/http.yaml) of exactly one RPC. Within one method and path shape, rows with more flags
// come first, so the most specific row wins.
var Routes = []Route{
	// SMH API 1.1: generate an access token (GET, or POST with an optional JSON body).
	{Method: "GET", Pattern: "/api/v1/token", Target: "/_smh/token/create", RPC: tokenv1.TokenService_CreateToken_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/token", Target: "/_smh/token/create", RPC: tokenv1.TokenService_CreateToken_FullMethodName},
	// 1.2: renew.
	{Method: "POST", Pattern: "/api/v1/token/{LibraryId}/{AccessToken}", Target: "/_smh/token/renew/{LibraryId}/{AccessToken}", RPC: tokenv1.TokenService_RenewToken_FullMethodName},
	// 1.3: delete one token.
	{Method: "DELETE", Pattern: "/api/v1/token/{LibraryId}/{AccessToken}", Target: "/_smh/token/delete/{LibraryId}/{AccessToken}", RPC: tokenv1.TokenService_DeleteToken_FullMethodName},
	// 1.4: delete a user's tokens.
	{Method: "DELETE", Pattern: "/api/v1/token/{LibraryId}", Target: "/_smh/token/delete-user/{LibraryId}", RPC: tokenv1.TokenService_DeleteUserTokens_FullMethodName},

	// SMH API section 2: tenant spaces. Literal segments ("list", "count") come before the
	// rows whose segment is a parameter.
	{Method: "POST", Pattern: "/api/v1/space/{LibraryId}", Target: "/_smh/space/create/{LibraryId}", RPC: namespacev1.NamespaceService_CreateSpace_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}", Target: "/_smh/space/list-legacy/{LibraryId}", RPC: namespacev1.NamespaceService_ListSpacesLegacy_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/list", Target: "/_smh/space/list/{LibraryId}", RPC: namespacev1.NamespaceService_ListSpaces_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/count", Target: "/_smh/space/count/{LibraryId}", RPC: namespacev1.NamespaceService_CountSpaces_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}", Target: "/_smh/space/delete/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_DeleteSpace_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/extension", Target: "/_smh/space/extension/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_GetSpaceExtension_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/extension", Target: "/_smh/space/extension/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_UpdateSpaceExtension_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/size", Target: "/_smh/space/size/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_GetSpaceSize_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/file-count", Target: "/_smh/space/file-count/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_GetSpaceFileCount_FullMethodName},
	// 2.8, 2.9: usage.
	{Method: "GET", Pattern: "/api/v1/usage/{LibraryId}", Target: "/_smh/usage/library/{LibraryId}", RPC: namespacev1.NamespaceService_GetLibraryUsage_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/usage/{LibraryId}/{SpaceIds}", Target: "/_smh/usage/spaces/{LibraryId}/{SpaceIds}", RPC: namespacev1.NamespaceService_GetSpacesUsage_FullMethodName},

	// ---- issue 12 fileops (docs/fileops.md). The flagged PUT rows sit here, ahead of the
	// unflagged PUT rows of the same patterns below (directory create, simple upload), because
	// the first matching row wins.
	// 3.17 createVirtualFile.
	{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"virtual_file"}, Target: "/_smh/file/virtual/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.FileOpsService_CreateVirtualFile_FullMethodName},
	// 4.9 calibrateDirectoryStats.
	{Method: "PUT", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"calibrate"}, Target: "/_smh/directory/calibrate/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.FileOpsService_CalibrateDirectoryStats_FullMethodName},
	// 2.10 getContentsView and setSpaceTrafficLimit.
	{Method: "GET", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/contents-view", Target: "/_smh/space/contents-view/{LibraryId}/{SpaceId}", RPC: namespacev1.FileOpsService_GetContentsView_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/space/{LibraryId}/{SpaceId}/traffic-limit", Target: "/_smh/space/traffic-limit/{LibraryId}/{SpaceId}", RPC: namespacev1.FileOpsService_SetSpaceTrafficLimit_FullMethodName},
	// ---- end issue 12 fileops

	// SMH API section 4: directories and albums. {DirPath...} is the rest of the path, decoded
	// once (12.3); it may be empty (the root). GET picks info, stats, then the listing, whose
	// hyphenated pagination flags become a path segment of the internal route (decision 1).
	{Method: "PUT", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", BodyKey: "copyFrom", Target: "/_smh/directory/copy/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_CopyDirectory_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", BodyKey: "from", Target: "/_smh/directory/move/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_MoveDirectory_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Target: "/_smh/directory/create/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_CreateDirectory_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"by-marker", "by-page"}, Target: "/_smh/directory/list/both/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_ListDirectory_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"info"}, Target: "/_smh/directory/info/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_GetDirectoryInfo_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"stats"}, Target: "/_smh/directory/stats/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_GetDirectoryStats_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"by-page"}, Target: "/_smh/directory/list/page/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_ListDirectory_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"by-marker"}, Target: "/_smh/directory/list/marker/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_ListDirectory_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Target: "/_smh/directory/list/auto/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_ListDirectory_FullMethodName},
	{Method: "HEAD", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Target: "/_smh/directory/head/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_HeadDirectory_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Target: "/_smh/directory/delete/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_DeleteDirectory_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/directory/{LibraryId}/{SpaceId}/{DirPath...}", Flags: []string{"update"}, Target: "/_smh/directory/update/{LibraryId}/{SpaceId}/{DirPath}", RPC: namespacev1.NamespaceService_UpdateDirectory_FullMethodName},
	// --- archives (issue 12 item 6): 3.17 zip preview and uncompress (docs/archives.md). Before
	// the other file rows, which take any query.
	{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"zip-preview"}, Target: "/_smh/file/zip-preview/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ArchiveService_PreviewZipFile_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"uncompress"}, Target: "/_smh/file/uncompress/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ArchiveService_UncompressFile_FullMethodName},
	// --- end archives
	// SMH API section 3: files. PUT picks copy, move or symlink by a key of the JSON body and
	// otherwise begins a simple upload (object service); the confirm-key calls name one segment.
	{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", BodyKey: "copyFrom", Target: "/_smh/file/copy/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.NamespaceService_CopyFile_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", BodyKey: "from", Target: "/_smh/file/move/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.NamespaceService_MoveFile_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", BodyKey: "linkTo", Target: "/_smh/file/link/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.NamespaceService_CreateSymlink_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/_smh/file/begin-simple/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_BeginSimpleUpload_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}", Flags: []string{"confirm"}, Target: "/_smh/file/confirm/{LibraryId}/{SpaceId}/{ConfirmKey}", RPC: objectv1.ObjectService_ConfirmUpload_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}", Flags: []string{"renew"}, Target: "/_smh/file/renew/{LibraryId}/{SpaceId}/{ConfirmKey}", RPC: objectv1.ObjectService_RenewUpload_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"multipart"}, Target: "/_smh/file/begin-multipart/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_BeginMultipartUpload_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/_smh/file/begin-form/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_BeginFormUpload_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}", Flags: []string{"upload"}, Target: "/_smh/file/upload/{LibraryId}/{SpaceId}/{ConfirmKey}", RPC: objectv1.ObjectService_GetUploadStatus_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"info"}, Target: "/_smh/file/info/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_GetFileInfo_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"preview"}, Target: "/_smh/file/preview/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_PreviewFile_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/_smh/file/download/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_DownloadFile_FullMethodName},
	{Method: "HEAD", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/_smh/file/head/{LibraryId}/{SpaceId}/{FilePath}", RPC: objectv1.ObjectService_HeadFile_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}", Flags: []string{"upload"}, Target: "/_smh/file/upload/{LibraryId}/{SpaceId}/{ConfirmKey}", RPC: objectv1.ObjectService_AbortUpload_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/_smh/file/delete/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.NamespaceService_DeleteFile_FullMethodName},
	// 3.16: file info by inode.
	{Method: "GET", Pattern: "/api/v1/inode/{LibraryId}/{SpaceId}/{Inode}", Target: "/_smh/inode/{LibraryId}/{SpaceId}/{Inode}", RPC: namespacev1.NamespaceService_GetInodeInfo_FullMethodName},
	// 4.8: album cover; the album name is absent in a single-album library.
	{Method: "GET", Pattern: "/api/v1/album/{LibraryId}/{SpaceId}/cover", Target: "/_smh/album/cover/{LibraryId}/{SpaceId}/", RPC: objectv1.ObjectService_GetAlbumCover_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/album/{LibraryId}/{SpaceId}/cover/{AlbumName...}", Target: "/_smh/album/cover/{LibraryId}/{SpaceId}/{AlbumName}", RPC: objectv1.ObjectService_GetAlbumCover_FullMethodName},
	// 7.1: task query ("10" or "10,12,13").
	{Method: "GET", Pattern: "/api/v1/task/{LibraryId}/{SpaceId}/{TaskIdList}", Target: "/_smh/task/{LibraryId}/{SpaceId}/{TaskIdList}", RPC: namespacev1.NamespaceService_GetTasks_FullMethodName},
	// 7.2 and 7.4: library-level tasks (one segment fewer than 7.1 and 7.3).
	{Method: "GET", Pattern: "/api/v1/task/{LibraryId}/{TaskIdList}", Target: "/_smh/library-task/{LibraryId}/{TaskIdList}", RPC: namespacev1.NamespaceService_GetLibraryTasks_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/task-result/{LibraryId}/{TaskId}", Target: "/_smh/library-task-result/{LibraryId}/{TaskId}", RPC: namespacev1.NamespaceService_GetLibraryTaskResult_FullMethodName},
	// SMH API section 9: history versions. The library's settings name the literal
	// "library-history" where the space routes name a space and more segments.
	{Method: "GET", Pattern: "/api/v1/directory-history/{LibraryId}/library-history", Target: "/_smh/history/settings/{LibraryId}", RPC: namespacev1.NamespaceService_GetHistorySettings_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/directory-history/{LibraryId}/library-history", Target: "/_smh/history/settings/{LibraryId}", RPC: namespacev1.NamespaceService_SetHistorySettings_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/directory-history/{LibraryId}/library-history", Target: "/_smh/history/settings/{LibraryId}", RPC: namespacev1.NamespaceService_ClearLibraryHistory_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/directory-history/{LibraryId}/{SpaceId}/history-list/{FilePath...}", Target: "/_smh/history/list/{LibraryId}/{SpaceId}/{FilePath}", RPC: namespacev1.NamespaceService_ListHistory_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/directory-history/{LibraryId}/{SpaceId}/delete", Target: "/_smh/history/delete/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_DeleteHistory_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/directory-history/{LibraryId}/{SpaceId}/latest-version/{HistoryId}", Target: "/_smh/history/latest/{LibraryId}/{SpaceId}/{HistoryId}", RPC: namespacev1.NamespaceService_SetLatestVersion_FullMethodName},
	// SMH API section 6: quotas. {SpaceOrQuotaId} is a space or a quota id (decision 13).
	{Method: "POST", Pattern: "/api/v1/quota/{LibraryId}", Target: "/_smh/quota/create/{LibraryId}", RPC: namespacev1.NamespaceService_CreateQuota_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/quota/{LibraryId}/{SpaceOrQuotaId}", Target: "/_smh/quota/get/{LibraryId}/{SpaceOrQuotaId}", RPC: namespacev1.NamespaceService_GetQuota_FullMethodName},
	{Method: "PUT", Pattern: "/api/v1/quota/{LibraryId}/{SpaceOrQuotaId}", Target: "/_smh/quota/update/{LibraryId}/{SpaceOrQuotaId}", RPC: namespacev1.NamespaceService_UpdateQuota_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/space-quota/{LibraryId}/{SpaceId}", Target: "/_smh/quota/space/{LibraryId}/{SpaceId}", RPC: namespacev1.NamespaceService_GetSpaceQuota_FullMethodName},

	// --- search (issue 12): SMH API section 8 (docs/search.md). The literal last segments come
	// before the {SearchId} rows of the legacy search.
	{Method: "POST", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/space-contents", Target: "/_smh/search/legacy/{LibraryId}/{SpaceId}", RPC: namespacev1.SearchService_CreateLegacySearch_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/search-fs", Target: "/_smh/search/fs/{LibraryId}/{SpaceId}", RPC: namespacev1.SearchService_SearchFs_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/search-fs-stats", Target: "/_smh/search/fs-stats/{LibraryId}/{SpaceId}", RPC: namespacev1.SearchService_SearchFsStats_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/search-ai", Target: "/_smh/search/ai/{LibraryId}/{SpaceId}", RPC: namespacev1.SearchService_SearchAI_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/{SearchId}", Target: "/_smh/search/legacy/{LibraryId}/{SpaceId}/{SearchId}", RPC: namespacev1.SearchService_ContinueLegacySearch_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/search/{LibraryId}/{SpaceId}/{SearchId}", Target: "/_smh/search/legacy/{LibraryId}/{SpaceId}/{SearchId}", RPC: namespacev1.SearchService_DeleteLegacySearch_FullMethodName},
	// --- end search ---

	// SMH API section 5: the recycle bin. The flag picks the operation (5's route table); a
	// listing without a pagination flag is marker mode (decision 15). A recycled file's info and
	// preview sign URLs of its bytes, so the object service answers them. GET on an item without
	// a flag answers the item as the list shows it (an OpenSMH addition, docs/lifecycle.md).
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"by-marker", "by-page"}, Target: "/_smh/recycled/list/both/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_ListRecycled_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"by-page"}, Target: "/_smh/recycled/list/page/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_ListRecycled_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"by-marker"}, Target: "/_smh/recycled/list/marker/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_ListRecycled_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Target: "/_smh/recycled/list/auto/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_ListRecycled_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}/{RecycledItemId}", Flags: []string{"info"}, Target: "/_smh/recycled/file-info/{LibraryId}/{SpaceId}/{RecycledItemId}", RPC: objectv1.ObjectService_GetRecycledFileInfo_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}/{RecycledItemId}", Flags: []string{"preview"}, Target: "/_smh/recycled/preview/{LibraryId}/{SpaceId}/{RecycledItemId}", RPC: objectv1.ObjectService_PreviewRecycledFile_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}/{RecycledItemId}", Target: "/_smh/recycled/item/{LibraryId}/{SpaceId}/{RecycledItemId}", RPC: namespacev1.RecycleService_GetRecycledItem_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}/{RecycledItemId}", Flags: []string{"restore"}, Target: "/_smh/recycled/restore/{LibraryId}/{SpaceId}/{RecycledItemId}", RPC: namespacev1.RecycleService_RestoreRecycled_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"restore"}, Target: "/_smh/recycled/restore-batch/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_RestoreRecycledBatch_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"delete"}, Target: "/_smh/recycled/purge-batch/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_PurgeRecycledBatch_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Flags: []string{"lifecycle"}, Target: "/_smh/recycled/lifecycle/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_SetRecycleLifecycle_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}/{RecycledItemId}", Target: "/_smh/recycled/purge/{LibraryId}/{SpaceId}/{RecycledItemId}", RPC: namespacev1.RecycleService_PurgeRecycled_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/recycled/{LibraryId}/{SpaceId}", Target: "/_smh/recycled/empty/{LibraryId}/{SpaceId}", RPC: namespacev1.RecycleService_EmptyRecycled_FullMethodName},

	// Issue 12, batch: SMH API section 10 (batch copy, move, delete; the flag picks the
	// operation) and 7.3, one task with its typed result, for every task kind (docs/batch.md).
	{Method: "POST", Pattern: "/api/v1/batch/{LibraryId}/{SpaceId}", Flags: []string{"copy"}, Target: "/_smh/batch/copy/{LibraryId}/{SpaceId}", RPC: namespacev1.BatchService_BatchCopy_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/batch/{LibraryId}/{SpaceId}", Flags: []string{"move"}, Target: "/_smh/batch/move/{LibraryId}/{SpaceId}", RPC: namespacev1.BatchService_BatchMove_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/batch/{LibraryId}/{SpaceId}", Flags: []string{"delete"}, Target: "/_smh/batch/delete/{LibraryId}/{SpaceId}", RPC: namespacev1.BatchService_BatchDelete_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/task-result/{LibraryId}/{SpaceId}/{TaskId}", Target: "/_smh/task-result/{LibraryId}/{SpaceId}/{TaskId}", RPC: namespacev1.BatchService_QueryTaskResult_FullMethodName},
	// --- issue 12 change feed: SMH API 3.18 (docs/changefeed.md) ---
	{Method: "GET", Pattern: "/api/v1/fs-delta/{LibraryId}/{SpaceId}/cursor", Target: "/_smh/fs-delta/cursor/{LibraryId}/{SpaceId}", RPC: namespacev1.DeltaService_GetDeltaCursor_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/fs-delta/{LibraryId}/{SpaceId}/delta", Target: "/_smh/fs-delta/delta/{LibraryId}/{SpaceId}", RPC: namespacev1.DeltaService_QueryDeltaLog_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/file-deletion-check/{LibraryId}/{SpaceId}/{Inode}", Target: "/_smh/file-deletion-check/{LibraryId}/{SpaceId}/{Inode}", RPC: namespacev1.DeltaService_CheckFileDeletion_FullMethodName},
	// --- end change feed ---
	// --- favorites (issue 12 item 4) ---
	// SMH API section 11: favorites (decision 8) and 11.4 recent files. ?cancel comes first;
	// the matcher takes one trailing "/" after {SpaceId}, so Android's ".../{SpaceId}/?cancel"
	// reaches the same row.
	{Method: "POST", Pattern: "/api/v1/favorite/{LibraryId}/{SpaceId}", Flags: []string{"cancel"}, Target: "/_smh/favorite/cancel/{LibraryId}/{SpaceId}", RPC: namespacev1.FavoriteService_CancelFavorite_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/favorite/{LibraryId}/{SpaceId}", Target: "/_smh/favorite/add/{LibraryId}/{SpaceId}", RPC: namespacev1.FavoriteService_AddFavorite_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/favorite/{LibraryId}/{SpaceId}/list", Target: "/_smh/favorite/list/{LibraryId}/{SpaceId}", RPC: namespacev1.FavoriteService_ListFavorites_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/recent/{LibraryId}/{SpaceId}/recently-used-file", Target: "/_smh/recent/list/{LibraryId}/{SpaceId}", RPC: namespacev1.FavoriteService_ListRecentFiles_FullMethodName},
	// --- end favorites ---
	// ---- issue 13 fetch: a share visitor's bytes (13.11, docs/shares.md "Visitor bytes"). The
	// flag picks the operation on the visitor's file pattern; ?list of the same pattern is the
	// shares block's. {Inodes...} is the chain decoded once, so "%2F" and "/" split alike (13.10).
	// ?zip is an OpenSMH extension: the visitor page's folder download.
	{Method: "GET", Pattern: "/api/v1/share/file/{ShareCode}/{Inodes...}", Flags: []string{"preview"}, Target: "/_smh/share/file-preview/{ShareCode}/{Inodes}", RPC: objectv1.SharedFileService_PreviewSharedFile_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/share/file/{ShareCode}/{Inodes...}", Flags: []string{"download"}, Target: "/_smh/share/file-download/{ShareCode}/{Inodes}", RPC: objectv1.SharedFileService_DownloadSharedFile_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/share/file/{ShareCode}/{Inodes...}", Flags: []string{"zip"}, Target: "/_smh/share/zip/{ShareCode}/{Inodes}", RPC: objectv1.SharedFileService_ZipSharedDirectory_FullMethodName},
	// ---- end issue 13 fetch
	// ---- issue 13 tokens: 13.12 save from a share (decision 14, docs/shares.md). The literal
	// "file" must win over the owner side's POST /api/v1/share/{LibraryId}/{SpaceId} (create):
	// this row must stay before that one.
	{Method: "POST", Pattern: "/api/v1/share/file/{ShareCode}", Flags: []string{"save"}, Target: "/_smh/share/save/{ShareCode}", RPC: namespacev1.ShareSaveService_SaveShareFiles_FullMethodName},
	// ---- end issue 13 tokens
	// ---- issue 13 shares: share links (section 13, docs/shares.md). Visitor rows (literal
	// url-detail, verify, file) come before the owner rows whose second segment is {LibraryId};
	// list and search before {ShareId}; flagged POST rows (setEnabled, update) before the
	// unflagged create, whose segment is a space id (13.0 routing pitfalls).
	{Method: "GET", Pattern: "/api/v1/share/url-detail/{ShareToken}", Target: "/_smh/share/url-detail/{ShareToken}", RPC: namespacev1.ShareService_GetShareUrlDetail_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/share/verify/{ShareCode}", Target: "/_smh/share/verify/{ShareCode}", RPC: namespacev1.ShareService_VerifyExtractionCode_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/share/file/{ShareCode}/{Inodes...}", Flags: []string{"list"}, Target: "/_smh/share/file-list/{ShareCode}/{Inodes}", RPC: namespacev1.ShareService_ListShareFiles_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/share/{LibraryId}/list", Target: "/_smh/share/list/{LibraryId}", RPC: namespacev1.ShareService_ListShares_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/share/{LibraryId}/search", Target: "/_smh/share/search/{LibraryId}", RPC: namespacev1.ShareService_SearchShares_FullMethodName},
	{Method: "GET", Pattern: "/api/v1/share/{LibraryId}/{ShareId}", Target: "/_smh/share/detail/{LibraryId}/{ShareId}", RPC: namespacev1.ShareService_GetShareDetail_FullMethodName},
	{Method: "DELETE", Pattern: "/api/v1/share/{LibraryId}/{ShareId}", Target: "/_smh/share/delete/{LibraryId}/{ShareId}", RPC: namespacev1.ShareService_DeleteShare_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/share/{LibraryId}/{ShareId}", Flags: []string{"setEnabled"}, Target: "/_smh/share/set-enabled/{LibraryId}/{ShareId}", RPC: namespacev1.ShareService_SetShareEnabled_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/share/{LibraryId}/{ShareId}", Flags: []string{"update"}, Target: "/_smh/share/update/{LibraryId}/{ShareId}", RPC: namespacev1.ShareService_UpdateShare_FullMethodName},
	{Method: "POST", Pattern: "/api/v1/share/{LibraryId}/{SpaceId}", Target: "/_smh/share/create/{LibraryId}/{SpaceId}", RPC: namespacev1.ShareService_CreateShare_FullMethodName},
	// ---- end issue 13 shares
}
