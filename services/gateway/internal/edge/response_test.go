package edge

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
)

func TestForwardStatus(t *testing.T) {
	withStatus := func(v ...string) context.Context {
		md := metadata.MD{}
		if len(v) > 0 {
			md.Set("x-smh-http-status", v...)
		}
		return runtime.NewServerMetadataContext(context.Background(), runtime.ServerMetadata{HeaderMD: md})
	}
	tests := []struct {
		name            string
		ctx             context.Context
		wantStatus      int
		wantContentType bool
	}{
		{"no server metadata", context.Background(), 200, true},
		{"no status key", withStatus(), 200, true},
		{"201", withStatus("201"), 201, true},
		{"202", withStatus("202"), 202, true},
		{"204 drops Content-Type", withStatus("204"), 204, false},
		{"206", withStatus("206"), 206, true},
		{"302", withStatus("302"), 302, true},
		{"first value wins", withStatus("201", "202"), 201, true},
		{"garbage ignored", withStatus("created"), 200, true},
		{"empty ignored", withStatus(""), 200, true},
		{"199 ignored", withStatus("199"), 200, true},
		{"400 ignored", withStatus("400"), 200, true},
		{"500 ignored", withStatus("500"), 200, true},
		{"negative ignored", withStatus("-201"), 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", "application/json")
			if err := ForwardStatus(tt.ctx, w, nil); err != nil {
				t.Fatalf("ForwardStatus: %v", err)
			}
			// grpc-gateway writes the body next; without a status written, that is a 200.
			_, _ = w.Write([]byte("{}"))
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Result().Header.Get("Content-Type") != ""; got != tt.wantContentType {
				t.Fatalf("Content-Type present = %v, want %v", got, tt.wantContentType)
			}
		})
	}
}

func TestOutgoingHeader(t *testing.T) {
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"x-smh-http-status", "", false},
		{"X-SMH-HTTP-Status", "", false},
		{"x-smh-type", "x-smh-type", true},
		{"X-SMH-Creation-Time", "x-smh-creation-time", true},
		{"x-smh-request-id", "", false},
		{"X-SMH-Request-Id", "", false},
		{"x-smh-meta-color", "x-smh-meta-color", true},
		{"Location", "location", true},
		{"etag", "etag", true},
		{"ETag", "etag", true},
		{"content-type", "", false},
		{"grpc-status", "", false},
		{"authorization", "", false},
		{"x-smhtype", "", false},
		{"set-cookie", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := OutgoingHeader(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("OutgoingHeader(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestIncomingHeader(t *testing.T) {
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"X-Smh-Access-Token", "x-smh-access-token", true},
		{"x-smh-library-secret", "x-smh-library-secret", true},
		{"X-SMH-User-Id", "x-smh-user-id", true},
		{"X-Smh-Request-Id", "x-smh-request-id", true},
		{"Authorization", "authorization", true},
		{"Traceparent", "", false},
		{"tracestate", "", false},
		{"Baggage", "", false},
		// Other headers follow grpc-gateway's default: permanent headers under its prefix.
		{"Accept", runtime.MetadataPrefix + "Accept", true},
		{"content-type", runtime.MetadataPrefix + "Content-Type", true},
		{"X-Custom", "", false},
		{"X-Smh-Http-Status", "", false},
		{"Grpc-Metadata-X-Smh-User-Id", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := IncomingHeader(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("IncomingHeader(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
