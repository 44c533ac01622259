package bodytime

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// answer reports how the body read ended: 408 when it expired, 499 when it broke, 200 with the
// body otherwise; after a complete body it waits past the deadline and reports whether the
// request was cancelled meanwhile (409), which a deadline left on an HTTP/1.1 connection does.
func answer(read func(w http.ResponseWriter, r *http.Request) *Reader, wait time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := read(w, r)
		b, err := io.ReadAll(body)
		switch {
		case body.Expired():
			w.WriteHeader(http.StatusRequestTimeout)
			return
		case body.Broken():
			w.WriteHeader(499)
			return
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			w.WriteHeader(http.StatusConflict)
			return
		}
		_, _ = w.Write(b)
	})
}

func servers(t *testing.T, h http.Handler) map[string]*http.Client {
	clients := map[string]*http.Client{}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = proto == "HTTP/2"
		srv.StartTLS()
		t.Cleanup(srv.Close)
		c := srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs}
		if proto == "HTTP/1.1" {
			tr.ForceAttemptHTTP2 = false
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		c.Transport = tr
		clients[proto+" "+srv.URL] = c
	}
	return clients
}

// TestWithinCutsAStalledBody: a body that stops arriving is cut at the deadline and the answer
// reaches the client while its body is still open; a complete body is read, and the deadline
// does not cancel the handler still working after it.
func TestWithinCutsAStalledBody(t *testing.T) {
	const limit = 300 * time.Millisecond
	h := answer(func(w http.ResponseWriter, r *http.Request) *Reader { return Within(w, r, limit) }, 3*limit)
	for name, c := range servers(t, h) {
		url := name[strings.Index(name, " ")+1:]
		t.Run(name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { _, _ = pw.Write([]byte("a few bytes")) }()
			req, _ := http.NewRequest(http.MethodPut, url, pr)
			req.ContentLength = 1 << 20
			got := make(chan int, 1)
			go func() {
				resp, err := c.Do(req)
				if err != nil {
					got <- -1
					return
				}
				resp.Body.Close()
				got <- resp.StatusCode
			}()
			select {
			case status := <-got:
				if status != http.StatusRequestTimeout {
					t.Fatalf("stalled body answered %d, want 408", status)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no answer to a stalled body: the server waits for it")
			}

			resp, err := c.Post(url, "text/plain", strings.NewReader("whole body"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(b) != "whole body" {
				t.Fatalf("complete body answered %d %q", resp.StatusCode, b)
			}
		})
	}
}

// TestAtLeastKeepsASteadyBodyAndCutsAStalledOne: a body that keeps the pace is read in full
// over many windows; one that stops is cut.
func TestAtLeastKeepsASteadyBodyAndCutsAStalledOne(t *testing.T) {
	rate := Rate{Bytes: 4, Window: time.Second}
	h := answer(func(w http.ResponseWriter, r *http.Request) *Reader { return AtLeast(w, r, rate) }, 0)
	for name, c := range servers(t, h) {
		url := name[strings.Index(name, " ")+1:]
		t.Run(name, func(t *testing.T) {
			// 8 bytes every 100 ms for 3 windows: twice the bytes in a tenth of the window.
			pr, pw := io.Pipe()
			go func() {
				for range 30 {
					chunk := []byte("12345678")
					if _, err := pw.Write(chunk); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				pw.Close()
			}()
			resp, err := c.Post(url, "text/plain", pr)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(b) != 240 {
				t.Fatalf("steady body answered %d with %d bytes", resp.StatusCode, len(b))
			}

			stalled, stall := io.Pipe()
			defer stall.Close()
			go func() { _, _ = stall.Write([]byte("12345678")) }()
			req, _ := http.NewRequest(http.MethodPut, url, stalled)
			done := make(chan int, 1)
			go func() {
				resp, err := c.Do(req)
				if err != nil {
					done <- -1
					return
				}
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			select {
			case status := <-done:
				if status != http.StatusRequestTimeout {
					t.Fatalf("stalled body answered %d, want 408", status)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no answer to a stalled body")
			}
		})
	}
}
