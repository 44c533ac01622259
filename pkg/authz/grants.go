package authz

// Grant names as SMH spells them (SMH API section 1.1). Services check them with
// Principal.Has / RequireAny.
const (
	Admin                    = "admin"
	SpaceAdmin               = "space_admin"
	CreateSpace              = "create_space"
	DeleteSpace              = "delete_space"
	CreateDirectory          = "create_directory"
	DeleteDirectory          = "delete_directory"
	DeleteDirectoryPermanent = "delete_directory_permanent"
	MoveDirectory            = "move_directory"
	CopyDirectory            = "copy_directory"
	UploadFile               = "upload_file"
	UploadFileForce          = "upload_file_force"
	BeginUpload              = "begin_upload"
	BeginUploadForce         = "begin_upload_force"
	ConfirmUpload            = "confirm_upload"
	CreateSymlink            = "create_symlink"
	CreateSymlinkForce       = "create_symlink_force"
	DeleteFile               = "delete_file"
	DeleteFilePermanent      = "delete_file_permanent"
	MoveFile                 = "move_file"
	MoveFileForce            = "move_file_force"
	CopyFile                 = "copy_file"
	CopyFileForce            = "copy_file_force"
	DeleteRecycled           = "delete_recycled"
	RestoreRecycled          = "restore_recycled"
	// ACL switches a token to per-folder ACL authorization (section 12.8); a mode, not a permission.
	ACL = "acl"
	// The 2026 SDK names these in endpoint descriptions but not in its grant enum (section 1.1, UNCONFIRMED).
	ReadOnly         = "read_only"
	DeleteHistory    = "delete_history"
	SetHistoryLatest = "set_history_latest"
	CreateVirtual    = "create_virtual"
)

// GrantSet is a set of grants as a bit mask: copying a principal copies its grants, and a check is
// a switch and an AND, with no map lookups or allocation on the request path.
type GrantSet uint64

// grantOrder lists every grant once, in the order of the table in section 1.1; a bit's position is
// its index here. A function rather than a package variable keeps the table immutable.
func grantOrder() [29]string {
	return [29]string{
		Admin, SpaceAdmin, CreateSpace, DeleteSpace, CreateDirectory, DeleteDirectory,
		DeleteDirectoryPermanent, MoveDirectory, CopyDirectory, UploadFile, UploadFileForce,
		BeginUpload, BeginUploadForce, ConfirmUpload, CreateSymlink, CreateSymlinkForce, DeleteFile,
		DeleteFilePermanent, MoveFile, MoveFileForce, CopyFile, CopyFileForce, DeleteRecycled,
		RestoreRecycled, ACL, ReadOnly, DeleteHistory, SetHistoryLatest, CreateVirtual,
	}
}

// Grants lists every grant SMH defines, in the order of section 1.1 (for tests that walk them all).
func Grants() []string {
	all := grantOrder()
	return all[:]
}

// GrantBit answers the one-grant set named name, and false when SMH has no grant of that name.
func GrantBit(name string) (GrantSet, bool) {
	// A switch compiles to a binary search over the names; this runs on every permission check.
	var i uint
	switch name {
	case Admin:
		i = 0
	case SpaceAdmin:
		i = 1
	case CreateSpace:
		i = 2
	case DeleteSpace:
		i = 3
	case CreateDirectory:
		i = 4
	case DeleteDirectory:
		i = 5
	case DeleteDirectoryPermanent:
		i = 6
	case MoveDirectory:
		i = 7
	case CopyDirectory:
		i = 8
	case UploadFile:
		i = 9
	case UploadFileForce:
		i = 10
	case BeginUpload:
		i = 11
	case BeginUploadForce:
		i = 12
	case ConfirmUpload:
		i = 13
	case CreateSymlink:
		i = 14
	case CreateSymlinkForce:
		i = 15
	case DeleteFile:
		i = 16
	case DeleteFilePermanent:
		i = 17
	case MoveFile:
		i = 18
	case MoveFileForce:
		i = 19
	case CopyFile:
		i = 20
	case CopyFileForce:
		i = 21
	case DeleteRecycled:
		i = 22
	case RestoreRecycled:
		i = 23
	case ACL:
		i = 24
	case ReadOnly:
		i = 25
	case DeleteHistory:
		i = 26
	case SetHistoryLatest:
		i = 27
	case CreateVirtual:
		i = 28
	default:
		return 0, false
	}
	return GrantSet(1) << i, true
}

// NewGrantSet builds a set from grant names; it reports false with the first unknown name.
func NewGrantSet(names ...string) (GrantSet, string, bool) {
	var s GrantSet
	for _, n := range names {
		b, ok := GrantBit(n)
		if !ok {
			return 0, n, false
		}
		s |= b
	}
	return s, "", true
}

// Contains reports whether name was granted explicitly (no implication by admin or space_admin).
func (s GrantSet) Contains(name string) bool {
	b, ok := GrantBit(name)
	return ok && s&b != 0
}

// Names lists the grants in the set in the order of section 1.1; nil for read only.
func (s GrantSet) Names() []string {
	if s == 0 {
		return nil
	}
	var out []string
	for i, n := range grantOrder() {
		if s&(GrantSet(1)<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Bits whose implication rules differ; they must agree with the positions in GrantBit (a test checks).
const (
	bitAdmin       GrantSet = 1 << 0
	bitSpaceAdmin  GrantSet = 1 << 1
	bitCreateSpace GrantSet = 1 << 2
	bitDeleteSpace GrantSet = 1 << 3
	bitACL         GrantSet = 1 << 24
	bitReadOnly    GrantSet = 1 << 25
)
