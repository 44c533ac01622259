package dataplane

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// zip streams a share visitor's folder download (issue 13 fetch, docs/shares.md "Visitor
// bytes"). Errors found before the first byte answer as every error of the endpoint does; one
// found after it (the share disabled mid-way, a blob unreadable, the client gone) cuts the
// response, so the client never receives a clean end of a truncated archive.
func (h *Handler) zip(w http.ResponseWriter, r *http.Request) {
	code, err := url.PathUnescape(strings.TrimPrefix(r.URL.Path, ZipPrefix))
	if err != nil || code == "" {
		writeError(w, r, http.StatusForbidden, "SignatureDoesNotMatch", "the signature does not match")
		return
	}
	z, err := h.obj.OpenSharedZip(r.Context(), code, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/zip")
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": z.FileName()}))
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if err := z.WriteTo(r.Context(), w); err != nil {
		if !clientGone(r) {
			h.logger.WarnContext(r.Context(), "share zip stream cut", "request_id", w.Header().Get("X-SMH-Request-Id"), "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}
