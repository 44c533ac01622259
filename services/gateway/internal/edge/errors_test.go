package edge

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/pkg/telemetry"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"SMH error", "GET", smherr.New(http.StatusNotFound, "FileNotFound", "no such file"), 404, "FileNotFound", "no such file"},
		{"451 from a gRPC status", "GET", status.Convert(smherr.New(451, "ContentBlocked", "blocked")).Err(), 451, "ContentBlocked", "blocked"},
		{"plain gRPC status", "POST", status.Error(codes.InvalidArgument, "bad limit"), 400, "ParamInvalid", "bad limit"},
		{"unknown error hides its text", "GET", errors.New("pq: secret text"), 500, "InternalError", "internal error"},
		{"nil error", "GET", nil, 500, "InternalError", "internal error"},
		{"HEAD gets the status alone", "HEAD", smherr.New(http.StatusForbidden, "NoPermission", "no"), 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api/v1/x", nil)
			r = r.WithContext(telemetry.WithRequestID(r.Context(), "req-123"))
			w := httptest.NewRecorder()
			w.Header().Set("Content-Length", "999") // a stale length set before the error
			WriteError(w, r, tt.err)

			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			h := w.Result().Header
			if got := h.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if got := h.Get("Content-Length"); got != "" {
				t.Errorf("stale Content-Length %q kept", got)
			}
			if tt.method == http.MethodHead {
				if w.Body.Len() != 0 {
					t.Fatalf("HEAD got a body: %q", w.Body.String())
				}
				return
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Fatalf("body leaks internal text: %s", w.Body.String())
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			want := map[string]string{"code": tt.wantCode, "message": tt.wantMsg, "requestId": "req-123"}
			if len(body) != len(want) || body["code"] != want["code"] || body["message"] != want["message"] || body["requestId"] != want["requestId"] {
				t.Fatalf("body %v, want %v", body, want)
			}
		})
	}
}

func TestRoutingErrorHandler(t *testing.T) {
	tests := []struct {
		status     int
		wantStatus int
		wantCode   string
	}{
		{http.StatusMethodNotAllowed, 405, "MethodNotAllowed"},
		{http.StatusNotFound, 404, "RouteNotFound"},
		{http.StatusBadRequest, 404, "RouteNotFound"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			w := httptest.NewRecorder()
			RoutingErrorHandler(t.Context(), nil, nil, w, httptest.NewRequest("GET", "/nothing", nil), tt.status)
			var body struct{ Code string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != tt.wantStatus || body.Code != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", w.Code, body.Code, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestLimitBody(t *testing.T) {
	var got []byte
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
	})
	h := LimitBody(10, next)
	tests := []struct {
		name     string
		body     string
		chunked  bool
		wantCode int
	}{
		{"small announced", "0123456789", false, http.StatusOK},
		{"large announced", "0123456789x", false, http.StatusRequestEntityTooLarge},
		{"small chunked", "0123456789", true, http.StatusOK},
		{"large chunked", "0123456789x", true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			r := httptest.NewRequest("POST", "/admin/v1/libraries", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode == http.StatusOK && string(got) != tt.body {
				t.Fatalf("next read %q", got)
			}
			if tt.wantCode != http.StatusOK && (got != nil || !strings.Contains(w.Body.String(), "RequestEntityTooLarge")) {
				t.Fatalf("refused body reached next or wrong answer: %s", w.Body.String())
			}
		})
	}
}
