package transport

import (
	"context"
	"net/http"
	"testing"

	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// TestErrorMap pins the SMH code and status of every use-case and store error of section 3, so
// that none falls through to InternalError.
func TestErrorMap(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{app.ErrFileNotFound, http.StatusNotFound, "FileNotFound"},
		{smherr.Invalidf(fileattr.ErrInvalid, "metadata keys are x-smh-meta- followed by a name"), http.StatusBadRequest, "ParamInvalid"},
		{app.ErrSourceFileNotFound, http.StatusNotFound, "SourceFileNotFound"},
		{&app.InputError{Err: app.ErrInvalidSourceFile, Reason: "the source is a directory"}, http.StatusBadRequest, "InvalidSourceFile"},
		{app.ErrEmptyFileName, http.StatusBadRequest, "EmptyFileName"},
		{app.ErrFileNameTooLong, http.StatusBadRequest, "FileNameLengthExceed"},
		{app.ErrNameTooLong, http.StatusBadRequest, "DirectoryNameLengthExceed"},
		{&app.InputError{Err: app.ErrExtnameNotAllowed, Reason: "x"}, http.StatusBadRequest, "ExtnameNotAllowed"},
		{app.ErrUploadToRoot, http.StatusBadRequest, "UploadToRootDirectoryNotAllowed"},
		{app.ErrFileTypeNotMatched, http.StatusBadRequest, "FileTypeNotMatched"},
		{app.ErrSymlinkToDirectory, http.StatusBadRequest, "SymlinkToDirectoryNotAllowed"},
		{app.ErrCoverInFileLibrary, http.StatusBadRequest, "CoverNotSupportedInFileLibrary"},
		{app.ErrCoverInRoot, http.StatusBadRequest, "CoverNotSupportedInRootDirectory"},
		{app.ErrSymlinkOverwrite, http.StatusBadRequest, "SymlinkOverwriteConflict"},
		{app.ErrSourceMissing, http.StatusNotFound, "SourceFileNotFound"},
		{app.ErrIsDirectory, http.StatusNotFound, "FileNotFound"},
		{app.ErrNodeNotFound, http.StatusNotFound, "DirectoryNotFound"},
		{app.ErrNotDirectory, http.StatusConflict, "SameNameDirectoryOrFileExists"},
		{app.ErrNameTaken, http.StatusConflict, "SameNameDirectoryOrFileExists"},
		{app.ErrDirectoryNotAllowed, http.StatusBadRequest, "DirectoryNotAllowed"},
		{app.ErrDirectoryLevelExceed, http.StatusBadRequest, "DirectoryLevelExceed"},
		{context.Canceled, 499, "ClientDisconnected"},
	}
	for _, tt := range tests {
		e := smherr.As(toStatus(tt.err))
		if e == nil || e.Status != tt.status || e.Code != tt.code {
			t.Errorf("%v → %+v, want %d %s", tt.err, e, tt.status, tt.code)
		}
	}
	if e := smherr.As(toStatus(&app.InputError{Err: app.ErrInvalidSourceFile, Reason: "the source is a directory"})); e.Message != "the source is a directory" {
		t.Errorf("the reason does not reach the caller: %+v", e)
	}
}
