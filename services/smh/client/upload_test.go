package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestPartsRenewAnExpiredTicket: a part refused with 403 (the data endpoint's answer to an
// expired signature) renews the ticket once (3.5) and goes again with the new headers; the other
// parts use the renewed ticket too. The endpoint here is a stand-in speaking the protocol, since
// the all-in-one's ticket lifetime (an hour) is not a flag; tests/cli covers the real server.
func TestPartsRenewAnExpiredTicket(t *testing.T) {
	data := make([]byte, 5<<20+123)
	rand.NewChaCha8([32]byte{9}).Read(data)

	var mu sync.Mutex
	signature, renewals, refused := "sig-1", 0, false
	parts := map[int][]byte{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ticket := func() {
			json.NewEncoder(w).Encode(map[string]any{"domain": r.Host, "path": "/data/obj", "uploadId": "u1",
				"confirmKey": "key1", "headers": map[string]string{"Authorization": signature}})
		}
		q := r.URL.Query()
		switch {
		case r.Method == "POST" && q.Has("multipart"):
			ticket()
		case r.Method == "POST" && q.Has("renew"):
			renewals++
			signature = "sig-" + strconv.Itoa(renewals+1)
			ticket()
		case r.Method == "PUT" && strings.HasPrefix(r.URL.Path, "/data/"):
			n, _ := strconv.Atoi(q.Get("partNumber"))
			if n == 3 && !refused {
				// Part 3 meets the signature's expiry: every header before the renewal is refused.
				refused = true
				signature = "expired"
			}
			if r.Header.Get("Authorization") != signature {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"code":"AccessDenied","message":"Request has expired"}`))
				return
			}
			parts[n], _ = io.ReadAll(r.Body)
		case r.Method == "POST" && q.Has("confirm"):
			var whole []byte
			for i := 1; i <= len(parts); i++ {
				whole = append(whole, parts[i]...)
			}
			crc, _ := crcOf(context.Background(), bytes.NewReader(whole))
			json.NewEncoder(w).Encode(map[string]any{"name": "f", "path": []string{"f"}, "size": strconv.Itoa(len(whole)), "crc64": crc})
		default:
			http.Error(w, `{"code":"Unexpected"}`, http.StatusTeapot)
		}
	}))
	defer srv.Close()

	c, err := New(Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	c.api.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := c.Space("lib", "", "tok").Upload(context.Background(), "f", f, UploadOptions{PartSize: 1 << 20, Parallel: 2})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if renewals != 1 || tr.Moved != int64(len(data)) || len(parts) != 6 {
		t.Fatalf("renewals %d, moved %d, parts %d", renewals, tr.Moved, len(parts))
	}
}
