package edge

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/pkg/telemetry"
)

func TestObserve(t *testing.T) {
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter)
		wantStatus int
	}{
		{"body only is a 200", func(w http.ResponseWriter) { _, _ = w.Write([]byte("ok")) }, 200},
		{"explicit status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) }, 201},
		{"first status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, 404},
		{"status after body is ignored", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("x"))
			w.WriteHeader(http.StatusBadGateway)
		}, 200},
		{"server error", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			var seenHeader, seenCtx string
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenHeader = r.Header.Get("x-smh-request-id")
				seenCtx = telemetry.RequestID(r.Context())
				tt.handler(w)
			})
			route := func(r *http.Request) (string, *http.Request) { return "/api/v1/file/{LibraryId}", r }
			r := httptest.NewRequest("GET", "/api/v1/file/smhlib/secret-name.txt?access_token=tok-secret", nil)
			r.Header.Set("X-SMH-Request-Id", "client-chosen") // a client cannot choose the id
			w := httptest.NewRecorder()
			Observe(logger, route, next).ServeHTTP(w, r)

			id := w.Result().Header.Get(RequestIDHeader)
			if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
				t.Fatalf("%s = %q, want 32 hex digits", RequestIDHeader, id)
			}
			if seenHeader != id || seenCtx != id {
				t.Fatalf("next saw header %q and context %q, want %q", seenHeader, seenCtx, id)
			}
			if w.Code != tt.wantStatus {
				t.Fatalf("response status %d, want %d", w.Code, tt.wantStatus)
			}

			var line struct {
				Msg    string
				Route  string
				Status int
				Method string
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("access log %q: %v", logs.String(), err)
			}
			if line.Msg != "request" || line.Route != "/api/v1/file/{LibraryId}" || line.Method != "GET" || line.Status != tt.wantStatus {
				t.Fatalf("access log %+v, want route, GET and status %d", line, tt.wantStatus)
			}
			if s := logs.String(); strings.Contains(s, "secret") {
				t.Fatalf("access log records the path or query: %s", s)
			}
		})
	}
}

func TestObserveGivesEachRequestItsOwnID(t *testing.T) {
	h := Observe(slog.New(slog.DiscardHandler), func(r *http.Request) (string, *http.Request) { return "/", r },
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 10 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		id := w.Result().Header.Get(RequestIDHeader)
		if id == "" || seen[id] {
			t.Fatalf("request id %q empty or repeated", id)
		}
		seen[id] = true
	}
}

// Streaming responses (downloads, watches) must be able to flush through the status recorder.
func TestObserveLetsFlushThrough(t *testing.T) {
	h := Observe(slog.New(slog.DiscardHandler), func(r *http.Request) (string, *http.Request) { return "/", r },
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("part"))
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !w.Flushed {
		t.Fatal("the flush did not reach the underlying writer")
	}
}

func TestMetricLabelsAreBounded(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{{200, "2xx"}, {204, "2xx"}, {302, "3xx"}, {404, "4xx"}, {503, "5xx"}, {0, "other"}, {999, "other"}}
	for _, tt := range tests {
		if got := statusClass(tt.status); got != tt.want {
			t.Errorf("statusClass(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
	for m, want := range map[string]string{"GET": "GET", "DELETE": "DELETE", "BREW": "_OTHER", "get": "_OTHER"} {
		if got := knownMethod(m); got != want {
			t.Errorf("knownMethod(%q) = %q, want %q", m, got, want)
		}
	}
}
