package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/opensmh/opensmh/pkg/authz"
)

// The namespace's side of zip preview and uncompress (SMH API 3.17, docs/archives.md). The
// object service reads and writes the bytes; it asks here who may do what, keeps its task in
// this service's task store and commits what it extracts through CommitFile and
// EnsureDirectory, so quota, history, conflicts and counters apply as for an upload.

// TaskFileUncompress is the kind of an uncompress task (7.3 taskType). Stored: never rename.
const TaskFileUncompress = "fileUncompress"

// Archive operations, as OpenArchive takes them.
const (
	ArchivePreview    = "preview"
	ArchiveUncompress = "uncompress"
)

// objectRunner is the owner an object service instance's tasks are recorded under, so that
// they never mix with this service's own board.
func objectRunner(runner string) string { return "object:" + runner }

// archiveGrants answers whether p may run op (3.17): preview needs admin or space_admin;
// uncompress a download grant (admin, space_admin, read_only) and an upload grant (admin,
// space_admin, upload_file or its force variant).
func archiveGrants(p *authz.Principal, op string) error {
	if p.Has(authz.Admin) || p.Has(authz.SpaceAdmin) {
		return nil
	}
	if op == ArchiveUncompress && p.Has(authz.ReadOnly) && (p.Has(authz.UploadFile) || p.Has(authz.UploadFileForce)) {
		return nil
	}
	return authz.ErrNoPermission
}

// OpenArchive answers the file an archive operation names, after the caller's grants and space,
// and the library's enableFileUncompress. The switch is judged by the caller, after the query
// and the bytes (decision 26).
func (n *Namespace) OpenArchive(ctx context.Context, libraryID, spaceID, rawPath, op string) (Resolved, bool, error) {
	if op != ArchivePreview && op != ArchiveUncompress {
		return Resolved{}, false, invalid("operation must be preview or uncompress")
	}
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return Resolved{}, false, err
	}
	p, err := r.require()
	if err != nil {
		return Resolved{}, false, err
	}
	if err := archiveGrants(p, op); err != nil {
		return Resolved{}, false, err
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return Resolved{}, false, err
	}
	path, err := SplitFilePath(rawPath, r.lib.MaxNameLength)
	if err != nil {
		return Resolved{}, false, err
	}
	res, err := n.store.ResolveFile(ctx, libraryID, spaceID, path)
	if errors.Is(err, ErrIsDirectory) {
		// A directory is not an archive (3.17: 400 FileUncompressNotAllowed), judged by the
		// caller after the query, as for any file that is not one: it has no bytes.
		return Resolved{Path: path}, r.lib.EnableFileUncompress, nil
	}
	if err != nil {
		return Resolved{}, false, notFile(err, ErrFileNotFound)
	}
	return res, r.lib.EnableFileUncompress, nil
}

// UncompressTarget is where an uncompress task writes, as BeginUncompressTask checked it.
type UncompressTarget struct {
	TaskID      int32
	SpaceID     string
	Path        []string
	UserID      string
	Force       bool
	HeartbeatMS int64
	// Rules are what the target space requires of the bytes, as for an upload (2.11).
	Rules UploadRules
}

// BeginUncompressTask checks an uncompress's target and records its running task in the source
// space, owned by runner (an object service instance). Another space is admin only (3.17); the
// target directory must exist (404 DirectoryNotFound).
func (n *Namespace) BeginUncompressTask(ctx context.Context, libraryID, spaceID, targetSpaceID, targetPath, runner string) (UncompressTarget, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return UncompressTarget{}, err
	}
	p, err := r.require()
	if err != nil {
		return UncompressTarget{}, err
	}
	if err := archiveGrants(p, ArchiveUncompress); err != nil {
		return UncompressTarget{}, err
	}
	target, err := n.space(ctx, r, spaceID)
	if err != nil {
		return UncompressTarget{}, err
	}
	if targetSpaceID == "" {
		targetSpaceID = spaceID
	}
	if targetSpaceID != spaceID {
		if !p.Has(authz.Admin) {
			return UncompressTarget{}, authz.ErrNoPermission
		}
		if target, err = n.space(ctx, r, targetSpaceID); err != nil {
			return UncompressTarget{}, err
		}
	}
	if strings.TrimSpace(targetPath) == "" {
		return UncompressTarget{}, invalid("targetPath is required (\"/\" is the space's root)")
	}
	path, err := SplitPath(targetPath, r.lib.MaxNameLength)
	if err != nil {
		return UncompressTarget{}, err
	}
	dir, err := n.store.Lookup(ctx, libraryID, targetSpaceID, path)
	if errors.Is(err, ErrNotDirectory) || err == nil && !dir.IsDir() {
		return UncompressTarget{}, ErrNodeNotFound
	}
	if err != nil {
		return UncompressTarget{}, err
	}
	id, err := n.store.CreateTask(ctx, libraryID, spaceID, TaskFileUncompress, objectRunner(runner), n.clock.Now())
	if err != nil {
		return UncompressTarget{}, err
	}
	return UncompressTarget{
		TaskID: id, SpaceID: targetSpaceID, Path: path, UserID: userOf(p),
		Force:       p.Has(authz.UploadFileForce), // admin and space_admin hold it too
		HeartbeatMS: n.tasks.heartbeat.Milliseconds(), Rules: uploadRules(r.lib, target),
	}, nil
}

// BeatUncompressTasks refreshes the heartbeat of runner's running tasks.
func (n *Namespace) BeatUncompressTasks(ctx context.Context, runner string) error {
	if runner == "" {
		return invalid("runner is required")
	}
	return n.store.HeartbeatTasks(ctx, objectRunner(runner), n.clock.Now())
}

// FinishUncompressTask records a task's outcome and its result object (7.3), once: a task no
// longer running keeps the outcome it has.
func (n *Namespace) FinishUncompressTask(ctx context.Context, id int32, status int, resultJSON string) error {
	switch status {
	case TaskDone, TaskPartial, TaskAllFailed, TaskFailed:
	default:
		return invalid("status must be 200, 207, 400 or 500")
	}
	if resultJSON != "" && !json.Valid([]byte(resultJSON)) {
		return invalid("the result must be JSON")
	}
	return n.store.FinishTask(ctx, id, status, resultJSON, "", n.clock.Now())
}

// EnsureDirectory makes path and its missing parents in an uncompress's target; an existing
// directory is taken as it is, a file in the way is ErrNotDirectory (409).
func (n *Namespace) EnsureDirectory(ctx context.Context, libraryID, spaceID string, path []string, userID string) error {
	lib, err := n.libraries.Library(ctx, libraryID)
	if err != nil {
		return err
	}
	checked, err := SplitPath(strings.Join(path, "/"), lib.MaxNameLength)
	if err != nil {
		return err
	}
	if len(checked) != len(path) {
		return invalid("path segments may not contain \"/\"")
	}
	sp, err := n.store.GetSpace(ctx, libraryID, spaceID)
	if err != nil {
		return err
	}
	if err := albumRule(lib, sp, checked); err != nil {
		return err
	}
	for range 2 { // a concurrent maker may win the name between the look and the make
		node, err := n.store.Lookup(ctx, libraryID, spaceID, checked)
		switch {
		case err == nil && node.IsDir():
			return nil
		case err == nil:
			return ErrNotDirectory
		case !errors.Is(err, ErrNodeNotFound):
			return err
		}
		_, _, err = n.store.MakeDirectories(ctx, libraryID, spaceID, checked, ConflictAsk, DirAttrs{UserID: userID}, n.clock.Now())
		if !errors.Is(err, ErrNameTaken) {
			return err
		}
	}
	return ErrNotDirectory
}
