// Package dataplane is the object service's data endpoint (decision 11): where clients send the
// bytes of an upload ticket (PUT, parts, form POST) and fetch the bytes of a signed download URL
// (GET, HEAD, Range). It speaks what SMH clients send to COS, errors included (COS-style XML),
// and streams every body: nothing holds a whole file in memory.
package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// Paths of the endpoint. The gateway (or an ingress) routes them to the object service.
const (
	UploadPrefix   = dataroute.UploadPrefix
	DownloadPrefix = dataroute.DownloadPrefix
	ZipPrefix      = dataroute.ZipPrefix
)

// Handler serves the data endpoint.
type Handler struct {
	obj     *app.Object
	logger  *slog.Logger
	minRate bodytime.Rate
}

// The slowest an upload body may arrive by default: 16 KiB in every 30 s (about 550 bytes a
// second), which the worst mobile link keeps while a client trickling bytes to hold connections
// open does not. File bodies may be large, so they get no total deadline.
const (
	DefaultMinBytes  = 16 << 10
	DefaultMinWindow = 30 * time.Second
)

// New builds the handler; a zero minRate takes the default.
func New(obj *app.Object, logger *slog.Logger, minRate bodytime.Rate) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	if minRate == (bodytime.Rate{}) {
		minRate = bodytime.Rate{Bytes: DefaultMinBytes, Window: DefaultMinWindow}
	}
	return &Handler{obj: obj, logger: logger, minRate: minRate}
}

// exposed are the response headers a cross-origin page may read: the part ETag the JS SDK keeps,
// the range of a partial download and the file facts (decision 11).
const exposed = "ETag, Content-Length, Content-Range, Content-Disposition, X-SMH-Request-Id, " +
	"x-smh-type, x-smh-size, x-smh-etag, x-smh-crc64, x-smh-content-type, x-smh-creation-time"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	setSecurityHeaders(hdr)
	// The signature in the ticket or URL is the credential, not a cookie, so any origin may call.
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
		hdr.Set("Access-Control-Expose-Headers", exposed)
	}
	if hdr.Get("X-SMH-Request-Id") == "" {
		// Behind the gateway's proxy the request carries the gateway's id: keep one id per request.
		id := r.Header.Get("X-SMH-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		hdr.Set("X-SMH-Request-Id", id)
	}
	switch {
	case r.Method == http.MethodOptions:
		hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			hdr.Set("Access-Control-Allow-Headers", req)
		}
		hdr.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, UploadPrefix):
		body := bodytime.AtLeast(w, r, h.minRate)
		r.Body = body
		h.put(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/":
		body := bodytime.AtLeast(w, r, h.minRate)
		r.Body = body
		h.form(w, r, body)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, DownloadPrefix):
		h.get(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, ZipPrefix):
		h.zip(w, r) // issue 13 fetch: a share visitor's folder download
	default:
		writeError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "the method is not allowed on this resource")
	}
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request, body *bodytime.Reader) {
	id := strings.TrimPrefix(r.URL.Path, UploadPrefix)
	q := r.URL.Query()
	var (
		etag string
		err  error
	)
	if q.Has("partNumber") || q.Has("uploadId") {
		n, convErr := strconv.Atoi(q.Get("partNumber"))
		if convErr != nil {
			n = -1
		}
		etag, err = h.obj.ReceivePart(r.Context(), id, q.Get("uploadId"), n, r.Header.Get("Authorization"), r.Body, r.ContentLength)
	} else {
		etag, err = h.obj.ReceiveSimple(r.Context(), id, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Body, r.ContentLength)
	}
	if err != nil {
		h.failBody(w, r, body, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// form reads a form upload (3.3): fields first, then the file field, streamed.
func (h *Handler) form(w http.ResponseWriter, r *http.Request, body *bodytime.Reader) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "MalformedPOSTRequest", "the body is not multipart/form-data")
		return
	}
	var f app.FormUpload
	for {
		part, err := mr.NextPart()
		if body.Expired() || body.Broken() {
			h.failBody(w, r, body, err)
			return
		}
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "MalformedPOSTRequest", "the form has no file field")
			return
		}
		name := part.FormName()
		if name == "file" {
			if f.ContentType == "" {
				f.ContentType = part.Header.Get("Content-Type")
			}
			etag, err := h.obj.ReceiveForm(r.Context(), f, part)
			if err != nil {
				h.failBody(w, r, body, err)
				return
			}
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// Fields before the file are small; bound them so a field cannot be a file in disguise.
		v, err := io.ReadAll(io.LimitReader(part, 8<<10))
		if body.Expired() || body.Broken() {
			h.failBody(w, r, body, err)
			return
		}
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "MalformedPOSTRequest", "unreadable form field")
			return
		}
		switch strings.ToLower(name) {
		case "key":
			f.Key = string(v)
		case "policy":
			f.Policy = string(v)
		case "content-type":
			f.ContentType = string(v)
		}
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, DownloadPrefix)
	s, err := h.obj.OpenDownload(r.Context(), key, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	contentType, inline := presentation(s.Download.ContentType, s.Download.Name)
	hdr.Set("Content-Type", contentType)
	disp := "inline"
	if s.Download.Attachment || !inline {
		disp = "attachment"
	}
	if s.Download.Name != "" {
		disp = mime.FormatMediaType(disp, map[string]string{"filename": s.Download.Name})
	}
	hdr.Set("Content-Disposition", disp)
	if s.ETag != "" {
		hdr.Set("ETag", s.ETag)
	}
	// The URL is signed and expires; caches may keep the bytes for as long as it lives.
	hdr.Set("Cache-Control", "private, max-age=3600")
	w, r = decideRange(w, r, s.Size)
	var body io.ReadSeeker = &lazyReader{open: s.Open, size: s.Size}
	if s.Download.Traffic > 0 {
		body = &pacedReader{ctx: r.Context(), src: body, rate: s.Download.Traffic} // issue 12 fileops
	}
	http.ServeContent(w, r, "", s.ModTime, body)
}

// decideRange applies the endpoint's own reading of Range (byterange.go) by handing
// http.ServeContent a request whose Range header it serves as decided; ServeContent keeps the
// preconditions, If-Range and streaming.
func decideRange(w http.ResponseWriter, r *http.Request, size int64) (http.ResponseWriter, *http.Request) {
	asked := r.Header.Values("Range")
	if len(asked) == 0 {
		return w, r
	}
	r = r.Clone(r.Context())
	var ranges []byteRange
	verdict := serveWhole // two Range fields are not one valid header: ignored
	if len(asked) == 1 {
		ranges, verdict = parseRange(asked[0], size)
	}
	switch verdict {
	case serveWhole:
		r.Header.Del("Range")
	case servePartial:
		r.Header.Set("Range", rangeHeader(ranges))
	case notSatisfiable:
		// A range starting at the end is one ServeContent answers 416 (with Content-Range
		// bytes */size) once the preconditions and If-Range allow a range at all; an empty file
		// is sent whole, 200, as ServeContent does for clients that send Range on every request.
		r.Header.Set("Range", "bytes="+strconv.FormatInt(size, 10)+"-")
		w = &invalidRangeWriter{ResponseWriter: w, r: r}
	}
	return w, r
}

// invalidRangeWriter answers http.ServeContent's 416 with the endpoint's COS-style XML error in
// place of ServeContent's plain text; the Content-Range header it set stays.
type invalidRangeWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *invalidRangeWriter) WriteHeader(status int) {
	if status != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	writeError(w.ResponseWriter, w.r, status, "InvalidRange", "the requested range is not satisfiable")
}

func (w *invalidRangeWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil // ServeContent's text, replaced by the XML body
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *invalidRangeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// lazyReader is an io.ReadSeeker over a blob that opens the store only when read, at the offset
// last sought, so http.ServeContent's seeks for Range cost no I/O.
type lazyReader struct {
	open func(offset, length int64) (io.ReadCloser, error)
	size int64
	off  int64
	rc   io.ReadCloser
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.off >= l.size {
		return 0, io.EOF
	}
	if l.rc == nil {
		rc, err := l.open(l.off, -1)
		if err != nil {
			return 0, err
		}
		l.rc = rc
	}
	n, err := l.rc.Read(p)
	l.off += int64(n)
	if errors.Is(err, io.EOF) {
		l.close()
	}
	return n, err
}

func (l *lazyReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = l.off + offset
	case io.SeekEnd:
		abs = l.size + offset
	}
	if abs < 0 {
		return 0, errors.New("negative position")
	}
	if abs != l.off {
		l.close()
	}
	l.off = abs
	return abs, nil
}

func (l *lazyReader) close() {
	if l.rc != nil {
		l.rc.Close()
		l.rc = nil
	}
}

// cosError is the COS-style XML error body (decision 11).
type cosError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// failBody answers the failure of an upload: a body below the minimum rate with COS's 408
// RequestTimeout, a client that went away mid-body as a client abort (499, logged as such, not
// as a server error), anything else as fail does. Whose failure it was is what the body reader
// saw, not what the error says: a store may wrap or replace the read error.
func (h *Handler) failBody(w http.ResponseWriter, r *http.Request, body *bodytime.Reader, err error) {
	switch {
	case body.Expired():
		h.logger.InfoContext(r.Context(), "upload body too slow: cut", "method", r.Method,
			"request_id", w.Header().Get("X-SMH-Request-Id"), "min_bytes", h.minRate.Bytes, "window", h.minRate.Window.String())
		writeError(w, r, http.StatusRequestTimeout, "RequestTimeout", "the body did not arrive at the minimum rate")
	case body.Broken() || clientGone(r):
		h.logger.InfoContext(r.Context(), "client aborted upload", "method", r.Method,
			"request_id", w.Header().Get("X-SMH-Request-Id"))
		writeError(w, r, 499, "ClientDisconnected", "client disconnected")
	default:
		h.fail(w, r, err)
	}
}

// clientGone reports whether the request's own context ended: the client went away. A context
// the server derived and cancelled is not the client's doing.
func clientGone(r *http.Request) bool { return r.Context().Err() != nil }

// fail answers err as COS would; internal causes are logged, never shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	if status == 499 && !clientGone(r) {
		// A cancellation the server made (a derived context, a shutdown) is a server error.
		status, code, msg = http.StatusInternalServerError, "InternalError", "internal error"
	}
	if status >= 500 {
		h.logger.ErrorContext(r.Context(), "data endpoint failed", "path", r.URL.Path, "method", r.Method,
			"request_id", w.Header().Get("X-SMH-Request-Id"), "error", err)
	}
	writeError(w, r, status, code, msg)
}

func classify(err error) (int, string, string) {
	var in *app.InputError
	switch {
	case errors.Is(err, app.ErrSignatureMissing):
		return http.StatusForbidden, "AccessDenied", "a signature is required"
	case errors.Is(err, app.ErrSignatureInvalid):
		return http.StatusForbidden, "SignatureDoesNotMatch", "the signature does not match"
	case errors.Is(err, app.ErrSignatureExpired):
		return http.StatusForbidden, "AccessDenied", "Request has expired"
	case errors.Is(err, app.ErrUploadNotFound), errors.Is(err, app.ErrUploadNotOpen):
		return http.StatusNotFound, "NoSuchUpload", "the upload does not exist or no longer takes bytes"
	case errors.Is(err, app.ErrBlobNotFound):
		return http.StatusNotFound, "NoSuchKey", "the object does not exist"
	case errors.Is(err, app.ErrPartTooLarge):
		return http.StatusBadRequest, "EntityTooLarge", "the body is larger than allowed"
	case errors.Is(err, app.ErrSizeMismatch):
		return http.StatusBadRequest, "IncompleteBody", "the body is shorter or longer than its Content-Length"
	case errors.As(err, &in):
		return http.StatusBadRequest, "InvalidArgument", in.Reason
	case errors.Is(err, app.ErrZipTooManyEntries), errors.Is(err, app.ErrZipTooLarge):
		return http.StatusBadRequest, "EntityTooLarge", "the folder is too large to download as one zip"
	case errors.Is(err, context.Canceled):
		return 499, "ClientDisconnected", "client disconnected"
	case callerError(err) != nil:
		e := callerError(err)
		return e.Status, e.Code, e.Message
	case smherr.DependencyFailed(err): // a store or service down or hung: retry later
		return http.StatusServiceUnavailable, "ServiceUnavailable", "service unavailable; try again later"
	}
	return http.StatusInternalServerError, "InternalError", "internal error"
}

// callerError answers the SMH error below 500 that err carries, or nil: the namespace's refusal
// of a share visitor (issue 13: disabled, expired, deleted, no download), whose code and
// message are meant for callers.
func callerError(err error) *smherr.Error {
	if e := smherr.As(err); e != nil && e.Status < http.StatusInternalServerError {
		return e
	}
	return nil
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Del("Content-Disposition")
	w.Header().Del("ETag")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	body, _ := xml.Marshal(cosError{Code: code, Message: msg, Resource: (&url.URL{Path: r.URL.Path}).String(), RequestID: w.Header().Get("X-SMH-Request-Id")})
	_, _ = w.Write(append([]byte(xml.Header), body...))
}

// requestIDPattern bounds a request id taken from a request, so a log line never carries more.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
