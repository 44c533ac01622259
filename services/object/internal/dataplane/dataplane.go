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

	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// Paths of the endpoint. The gateway (or an ingress) routes them to the object service.
const (
	UploadPrefix   = dataroute.UploadPrefix
	DownloadPrefix = dataroute.DownloadPrefix
)

// Handler serves the data endpoint.
type Handler struct {
	obj    *app.Object
	logger *slog.Logger
}

// New builds the handler.
func New(obj *app.Object, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{obj: obj, logger: logger}
}

// exposed are the response headers a cross-origin page may read: the part ETag the JS SDK keeps,
// the range of a partial download and the file facts (decision 11).
const exposed = "ETag, Content-Length, Content-Range, Content-Disposition, X-SMH-Request-Id, " +
	"x-smh-type, x-smh-size, x-smh-etag, x-smh-crc64, x-smh-content-type, x-smh-creation-time"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The signature in the ticket or URL is the credential, not a cookie, so any origin may call.
	hdr := w.Header()
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
		h.put(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/":
		h.form(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, DownloadPrefix):
		h.get(w, r)
	default:
		writeError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "the method is not allowed on this resource")
	}
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request) {
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
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// form reads a form upload (3.3): fields first, then the file field, streamed.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "MalformedPOSTRequest", "the body is not multipart/form-data")
		return
	}
	var f app.FormUpload
	for {
		part, err := mr.NextPart()
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
				h.fail(w, r, err)
				return
			}
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// Fields before the file are small; bound them so a field cannot be a file in disguise.
		v, err := io.ReadAll(io.LimitReader(part, 8<<10))
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
	if s.Download.ContentType != "" {
		hdr.Set("Content-Type", s.Download.ContentType)
	} else {
		hdr.Set("Content-Type", "application/octet-stream")
	}
	disp := "inline"
	if s.Download.Attachment {
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
	http.ServeContent(w, r, "", s.ModTime, &lazyReader{open: s.Open, size: s.Size})
}

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

// fail answers err as COS would; internal causes are logged, never shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
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
	case errors.Is(err, context.Canceled):
		return 499, "ClientDisconnected", "client disconnected"
	case smherr.DependencyFailed(err): // a store or service down or hung: retry later
		return http.StatusServiceUnavailable, "ServiceUnavailable", "service unavailable; try again later"
	}
	return http.StatusInternalServerError, "InternalError", "internal error"
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
