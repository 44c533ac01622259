package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// dataInstance is a real HTTP server standing for one object data endpoint: it echoes the body
// it received and counts the requests it answered.
type dataInstance struct {
	srv      *httptest.Server
	answered atomic.Int64
}

func startDataInstance(t *testing.T) *dataInstance {
	t.Helper()
	d := &dataInstance{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.answered.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Seen-Host", r.Host)
		_, _ = w.Write(body)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *dataInstance) addr() string { return strings.TrimPrefix(d.srv.URL, "http://") }

// deadAddr answers an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func TestDataProxyTakesInstancesInTurnAndSkipsDeadOnes(t *testing.T) {
	a, b := startDataInstance(t), startDataInstance(t)
	dead := deadAddr(t)
	// A rotation as discovery.Instances hands them out: each request starts one further on.
	addrs := []string{a.addr(), dead, b.addr()}
	var turn atomic.Int64
	rotation := func() []string {
		i := int(turn.Add(1)-1) % len(addrs)
		return append(append([]string(nil), addrs[i:]...), addrs[:i]...)
	}
	proxy := httptest.NewServer(DataProxy(rotation, nil))
	t.Cleanup(proxy.Close)

	const requests = 30
	for i := range requests {
		body := bytes.Repeat([]byte{byte(i)}, 1000+i)
		req, err := http.NewRequest(http.MethodPut, proxy.URL+"/data/some/path?sig=x", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "files.example.net"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("request %d: %d, %d bytes back, want 200 and the %d bytes sent", i, resp.StatusCode, len(got), len(body))
		}
		if h := resp.Header.Get("X-Seen-Host"); h != "files.example.net" {
			t.Fatalf("request %d reached the instance with Host %q, want the client's", i, h)
		}
	}
	// The dead instance's turns went to the next one: b took its own and the dead one's.
	if a.answered.Load() != requests/3 || b.answered.Load() != 2*requests/3 {
		t.Fatalf("a answered %d, b %d; want %d and %d", a.answered.Load(), b.answered.Load(), requests/3, 2*requests/3)
	}
}

func TestDataProxyWithNoInstanceAnswers503(t *testing.T) {
	for name, instances := range map[string]func() []string{
		"none registered": StaticInstances(),
		"all unreachable": StaticInstances(deadAddr(t), deadAddr(t)),
	} {
		t.Run(name, func(t *testing.T) {
			proxy := httptest.NewServer(DataProxy(instances, nil))
			t.Cleanup(proxy.Close)
			resp, err := http.Post(proxy.URL+"/data/x?sig=secret-signature", "application/octet-stream", strings.NewReader("bytes"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Code string }
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusServiceUnavailable || e.Code != "ServiceUnavailable" {
				t.Fatalf("answer %d %+v (%v), want 503 ServiceUnavailable", resp.StatusCode, e, err)
			}
		})
	}
}
