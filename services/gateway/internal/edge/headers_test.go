package edge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckHeaders(t *testing.T) {
	reached := false
	h := CheckHeaders(100, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached = true
		w.WriteHeader(http.StatusOK)
	}))
	tests := []struct {
		name     string
		headers  map[string][]string
		wantCode int
	}{
		// "X-Smh-Meta-A" is 12 bytes: 12 + 88 = 100 is at the limit.
		{"at the limit", map[string][]string{"X-Smh-Meta-A": {strings.Repeat("a", 88)}}, http.StatusOK},
		{"one byte over", map[string][]string{"X-Smh-Meta-A": {strings.Repeat("a", 89)}}, http.StatusRequestHeaderFieldsTooLarge},
		{"over in repeated values", map[string][]string{"X-A": {strings.Repeat("a", 50), strings.Repeat("b", 50)}}, http.StatusRequestHeaderFieldsTooLarge},
		{"over in many headers", func() map[string][]string {
			m := map[string][]string{}
			for _, k := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"} {
				m["X-"+k] = []string{"0123456"}
			}
			return m
		}(), http.StatusRequestHeaderFieldsTooLarge},
		{"printable metadata", map[string][]string{"X-Smh-Meta-A": {"Ann Lee ~"}}, http.StatusOK},
		{"tab in metadata", map[string][]string{"X-Smh-Meta-A": {"a\tb"}}, http.StatusBadRequest},
		{"UTF-8 in metadata", map[string][]string{"X-Smh-Meta-A": {"蓝"}}, http.StatusBadRequest},
		{"UTF-8 in another header", map[string][]string{"X-Note": {"蓝"}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached = false
			r := httptest.NewRequest("PUT", "/api/v1/file/lib/-/a.txt", nil)
			r.Header = tt.headers
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || reached != (tt.wantCode == http.StatusOK) {
				t.Fatalf("status %d (handler reached: %v), want %d", w.Code, reached, tt.wantCode)
			}
			if tt.wantCode == http.StatusOK {
				return
			}
			var body errorBody
			code := map[int]string{http.StatusRequestHeaderFieldsTooLarge: "HeaderFieldsTooLarge", http.StatusBadRequest: "ParamInvalid"}[tt.wantCode]
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Code != code || body.Message == "" {
				t.Fatalf("body %q, %v", w.Body.Bytes(), err)
			}
		})
	}
}
