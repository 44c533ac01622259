package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/smh/server"
)

// hangBound is how long a test waits for an answer that must come; it fails only on a hang.
const hangBound = 20 * time.Second

// protocols answers a client per protocol the edge speaks: HTTP/2 (what s.http negotiates) and
// HTTP/1.1.
func protocols(s *system) map[string]*http.Client {
	h1 := s.http.Transport.(*http.Transport).Clone()
	h1.ForceAttemptHTTP2 = false
	h1.TLSClientConfig = h1.TLSClientConfig.Clone()
	h1.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return map[string]*http.Client{"HTTP/2": s.http, "HTTP/1.1": {Transport: h1, Timeout: s.http.Timeout}}
}

// pendingBody is a request whose body has begun and not ended.
type pendingBody struct {
	body    *io.PipeWriter
	answers chan response
	errs    chan error
}

// Announced body lengths: one the HTTP/1.1 server would drain after answering (under 256 KiB),
// one it would not, and none (chunked on HTTP/1.1).
var bodyLengths = map[string]int64{"small body": 4 << 10, "large body": 1 << 20, "unannounced body": -1}

// startBody sends the headers of a request and the first bytes of a body announced as length
// bytes long (-1: unannounced), and keeps the body open.
func startBody(c *http.Client, method, rawURL string, header http.Header, first string, length int64) *pendingBody {
	pr, pw := io.Pipe()
	p := &pendingBody{body: pw, answers: make(chan response, 1), errs: make(chan error, 1)}
	req, err := http.NewRequest(method, rawURL, pr)
	if err != nil {
		p.errs <- err
		return p
	}
	req.ContentLength = length
	for k, v := range header {
		req.Header[k] = v
	}
	go func() { _, _ = pw.Write([]byte(first)) }()
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			p.errs <- err
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		p.answers <- response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}()
	return p
}

// answer waits for the answer to a request whose body is still open: it must come without the
// body. The body is closed afterwards.
func (p *pendingBody) answer(t *testing.T) response {
	t.Helper()
	defer p.body.Close()
	select {
	case r := <-p.answers:
		return r
	case err := <-p.errs:
		t.Fatalf("no answer: %v", err)
	case <-time.After(hangBound):
		t.Fatal("no answer while the body is open: the server waits for the body")
	}
	return response{}
}

// TestWritesWithoutCredentialsRefusedBeforeTheBody: a write whose body never arrives is
// refused at once without credentials, with a garbage, revoked or foreign token, or a wrong
// library secret, with the answer the service gives a request without a body.
func TestWritesWithoutCredentialsRefusedBeforeTheBody(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	other := fileLibrary(t, s, nil)
	revoked := s.mustMint(f.library, q("", "grant", "admin"))
	if r := s.call("DELETE", "/api/v1/token/"+f.lib+"/"+revoked, nil, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	tests := []struct {
		name   string
		query  url.Values
		status int
		code   string
	}{
		{"no credentials", url.Values{}, http.StatusBadRequest, "EmptyAccessToken"},
		{"empty token", url.Values{"access_token": {""}}, http.StatusBadRequest, "EmptyAccessToken"},
		{"garbage token", url.Values{"access_token": {"not-a-token"}}, http.StatusForbidden, "InvalidAccessToken"},
		{"revoked token", url.Values{"access_token": {revoked}}, http.StatusForbidden, "InvalidAccessToken"},
		{"token of another library", url.Values{"access_token": {other.token}}, http.StatusForbidden, "InvalidAccessToken"},
		{"wrong library secret", url.Values{"library_secret": {other.library.Secret}}, http.StatusNotFound, "WrongLibraryIdOrSecret"},
	}
	routes := []struct{ method, path string }{
		{"PUT", f.url("dir/a.txt")},                            // upload, copy, move or link: chosen by the body
		{"PUT", "/api/v1/directory/" + f.lib + "/-/d"},         // create, copy or move a directory
		{"POST", f.url("key") + "?confirm"},                    // confirm
		{"POST", "/api/v1/directory/" + f.lib + "/-/d?update"}, // update a directory
	}
	for proto, c := range protocols(s) {
		for _, tt := range tests {
			for _, rt := range routes {
				for length, n := range bodyLengths {
					t.Run(proto+"/"+tt.name+"/"+rt.method+" "+strings.SplitN(rt.path, "?", 2)[0]+"/"+length, func(t *testing.T) {
						target, _ := url.Parse(s.url + rt.path)
						qs := target.Query()
						for k, v := range tt.query {
							qs[k] = v
						}
						target.RawQuery = qs.Encode()
						r := startBody(c, rt.method, target.String(), nil, `{"copyFr`, n).answer(t)
						expectError(t, r, tt.status, tt.code)
					})
				}
			}
			// The service's own answer to the same credentials on a write without a body.
			t.Run(proto+"/"+tt.name+"/same as the service", func(t *testing.T) {
				r := s.call("DELETE", f.url("dir/a.txt"), tt.query, nil, nil)
				expectError(t, r, tt.status, tt.code)
			})
		}
	}
	// The admin API refuses a body without the operator key before reading it, as the service
	// refuses a request without one.
	for proto, c := range protocols(s) {
		for name, h := range map[string]http.Header{"no key": nil, "wrong key": {"Authorization": {"Bearer wrong"}}} {
			for length, n := range bodyLengths {
				t.Run(proto+"/admin/"+name+"/"+length, func(t *testing.T) {
					r := startBody(c, "POST", s.url+"/admin/v1/libraries", h, `{"na`, n).answer(t)
					expectError(t, r, http.StatusUnauthorized, "InvalidAdminKey")
				})
			}
		}
	}
	expectError(t, s.call("GET", "/admin/v1/libraries", nil, nil, nil), http.StatusUnauthorized, "InvalidAdminKey")

	// A browser can read the refusal: it carries the CORS headers the service's answer would.
	t.Run("CORS", func(t *testing.T) {
		const origin = "https://app.example"
		r := startBody(s.http, "PUT", s.url+f.url("x.txt"), http.Header{"Origin": {origin}}, "{", 4<<10).answer(t)
		expectError(t, r, http.StatusBadRequest, "EmptyAccessToken")
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Fatalf("Access-Control-Allow-Origin %q on the early refusal", got)
		}
	})
	// Valid credentials still reach the service, which reads the body.
	if r := f.do("PUT", "b.txt", nil, nil); r.Status != http.StatusCreated {
		t.Fatalf("begin with a token: %d %s", r.Status, r.Body)
	}
	if r := s.call("PUT", f.url("c.txt"), url.Values{"library_secret": {f.library.Secret}}, nil, nil); r.Status != http.StatusCreated {
		t.Fatalf("begin with the library secret: %d %s", r.Status, r.Body)
	}
}

// slowSystem is an all-in-one whose bounds on bodies are short enough to watch.
func slowSystem(t *testing.T, dsn string) *system {
	return startSystemWith(t, systemOptions{DSN: dsn, Tune: func(o *server.Options) {
		o.BodyReadTimeout = time.Second
		o.UploadMinRate = bodytime.Rate{Bytes: 64 << 10, Window: time.Second}
	}})
}

// TestSlowAPIBodyCut: an authenticated request whose body stops arriving is answered 408
// ReadRequestTimeout once the body read bound (1 s here) passes, while the body is still open;
// the admin API is bounded too.
func TestSlowAPIBodyCut(t *testing.T) {
	s := slowSystem(t, "")
	f := fileLibrary(t, s, nil)
	for proto, c := range protocols(s) {
		for length, n := range bodyLengths {
			t.Run(proto+"/business API/"+length, func(t *testing.T) {
				r := startBody(c, "PUT", s.url+f.url("slow.txt")+"?access_token="+url.QueryEscape(f.token), nil, `{"copyFr`, n).answer(t)
				expectError(t, r, http.StatusRequestTimeout, "ReadRequestTimeout")
			})
			t.Run(proto+"/admin API/"+length, func(t *testing.T) {
				r := startBody(c, "POST", s.url+"/admin/v1/libraries", http.Header{"Authorization": {"Bearer " + s.adminKey}}, `{"na`, n).answer(t)
				expectError(t, r, http.StatusRequestTimeout, "ReadRequestTimeout")
			})
		}
	}
	// A body that arrives is read as before.
	if r := f.do("PUT", "fast.txt", nil, map[string]any{}); r.Status != http.StatusCreated {
		t.Fatalf("begin: %d %s", r.Status, r.Body)
	}
}

// TestTricklingConnectionsAllClosed: 200 connections trickling a PUT body (half without
// credentials, half with a valid token) are all answered and closed by the server within the
// bound, none waiting for its body: the attack of issue 10 holds no connection.
func TestTricklingConnectionsAllClosed(t *testing.T) {
	s := slowSystem(t, "")
	f := fileLibrary(t, s, nil)
	host := strings.TrimPrefix(s.url, "https://")
	const conns = 200
	type outcome struct {
		status int
		closed bool
		err    error
	}
	outcomes := make(chan outcome, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			path := f.url(fmt.Sprintf("trickle/%d.txt", i))
			if i%2 == 1 {
				path += "?access_token=" + url.QueryEscape(f.token)
			}
			conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: s.http.Transport.(*http.Transport).TLSClientConfig.RootCAs, NextProtos: []string{"http/1.1"}})
			if err != nil {
				outcomes <- outcome{err: err}
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(2 * hangBound))
			if _, err := fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{", path, host); err != nil {
				outcomes <- outcome{err: err}
				return
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				outcomes <- outcome{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// The server closes the connection: reading on ends with EOF, not at our deadline.
			_, err = io.Copy(io.Discard, br)
			outcomes <- outcome{status: resp.StatusCode, closed: err == nil}
		})
	}
	wg.Wait()
	close(outcomes)
	statuses := map[int]int{}
	closed := 0
	for o := range outcomes {
		if o.err != nil {
			t.Fatalf("a trickling connection: %v", o.err)
		}
		statuses[o.status]++
		if o.closed {
			closed++
		}
	}
	t.Logf("%d trickling connections: answers %v, %d closed by the server", conns, statuses, closed)
	if statuses[http.StatusBadRequest] != conns/2 || statuses[http.StatusRequestTimeout] != conns/2 || closed != conns {
		t.Fatalf("answers %v, %d of %d closed; want %d × 400, %d × 408, all closed", statuses, closed, conns, conns/2, conns/2)
	}
}

// TestDataEndpointMinimumRate: an upload body below the minimum rate (64 KiB a second here) is
// cut with COS's 408 RequestTimeout; a body at a normal pace is taken, and confirmed.
func TestDataEndpointMinimumRate(t *testing.T) {
	s := slowSystem(t, "")
	f := fileLibrary(t, s, nil)
	for proto, c := range protocols(s) {
		t.Run(proto, func(t *testing.T) {
			tk := f.begin("slow-"+strings.ReplaceAll(proto, "/", "")+".bin", nil, nil)
			h := http.Header{}
			for k, v := range tk.Headers {
				h.Set(k, v)
			}
			r := startBody(c, "PUT", "https://"+tk.Domain+tk.Path, h, "a trickle", 1<<20).answer(t)
			expectXML(t, r, http.StatusRequestTimeout, "RequestTimeout")
		})
	}
	data := randomBytes(t, 3<<20)
	file := f.upload("normal.bin", data, nil)
	if file["size"] != fmt.Sprint(len(data)) && file["size"] != float64(len(data)) {
		t.Fatalf("confirmed file: %v", file)
	}
}

// TestOpenUploadCap: begins up to the cap succeed, the next is refused with 429
// RateLimitExceeded and creates nothing; confirm and abort free a slot; users are counted
// apart; concurrent begins at the cap never pass it. On every engine.
func TestOpenUploadCap(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			const maxOpen = 3
			s := startSystemWith(t, systemOptions{DSN: e.DSN(t), Tune: func(o *server.Options) { o.MaxOpenUploads = maxOpen }})
			f := fileLibrary(t, s, nil)
			var open []ticket
			for i := range maxOpen {
				open = append(open, f.begin(fmt.Sprintf("cap-%d.txt", i), nil, nil))
			}
			refused := f.do("PUT", "cap-over.txt", nil, nil)
			expectError(t, refused, http.StatusTooManyRequests, "RateLimitExceeded")
			if bytes.Contains(refused.Body, []byte("confirmKey")) {
				t.Fatalf("the refusal carries a ticket: %s", refused.Body)
			}
			// An upload beyond the cap would have been listed by its path once confirmed; the
			// store test proves no session row is left (store.TestOpenUploadCap).

			// Another user of the library has its own count.
			bob := f.as(s.mustMint(f.library, q("", "grant", "admin", "user_id", "bob")))
			bob.begin("cap-bob.txt", nil, nil)

			// A confirm frees a slot.
			data := []byte("confirmed")
			if r := f.send(open[0], "", data); r.Status != http.StatusOK {
				t.Fatalf("PUT bytes: %d %s", r.Status, r.Body)
			}
			if r := f.confirm(open[0].ConfirmKey, nil, map[string]any{"crc64": crcOf(data)}); r.Status != http.StatusOK {
				t.Fatalf("confirm: %d %s", r.Status, r.Body)
			}
			f.begin("cap-after-confirm.txt", nil, nil)
			expectError(t, f.do("PUT", "cap-over.txt", nil, nil), http.StatusTooManyRequests, "RateLimitExceeded")
			// An abort frees one too.
			if r := f.do("DELETE", open[1].ConfirmKey, url.Values{"upload": {""}}, nil); r.Status/100 != 2 {
				t.Fatalf("abort: %d %s", r.Status, r.Body)
			}
			f.begin("cap-after-abort.txt", nil, nil)
			expectError(t, f.do("PUT", "cap-over.txt", nil, nil), http.StatusTooManyRequests, "RateLimitExceeded")

			// Concurrent begins of a fresh user at the cap: exactly maxOpen pass.
			carol := f.as(s.mustMint(f.library, q("", "grant", "admin", "user_id", "carol")))
			const tries = 20
			var wg sync.WaitGroup
			statuses := make(chan int, tries)
			for i := range tries {
				wg.Go(func() {
					r, err := s.tryCall("PUT", carol.url(fmt.Sprintf("race-%d.txt", i)), carol.query(nil), nil, nil)
					if err != nil {
						statuses <- -1
						return
					}
					statuses <- r.Status
				})
			}
			wg.Wait()
			close(statuses)
			count := map[int]int{}
			for st := range statuses {
				count[st]++
			}
			if count[http.StatusCreated] != maxOpen || count[http.StatusTooManyRequests] != tries-maxOpen {
				t.Fatalf("%d racing begins at cap %d answered %v", tries, maxOpen, count)
			}
		})
	}
}

// TestClientAbortIsA499: a client that breaks off an upload mid-body is logged as a client
// abort and counted as 499, not as a server error.
func TestClientAbortIsA499(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	tk := f.begin("aborted.bin", nil, nil)
	conn, err := tls.Dial("tcp", tk.Domain, &tls.Config{RootCAs: s.http.Transport.(*http.Transport).TLSClientConfig.RootCAs, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n", tk.Path, tk.Domain)
	for k, v := range tk.Headers {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(head.String()), randomBytes(t, 100_000)...)); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// The server logs the abort once its read fails; wait for the line (bounded: a hang fails).
	deadline := time.Now().Add(hangBound)
	var abort, request map[string]any
	for abort == nil || request == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no client-abort lines in the log:\n%s", s.logText())
		}
		time.Sleep(50 * time.Millisecond)
		for _, line := range strings.Split(s.logText(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			switch {
			case m["msg"] == "client aborted upload":
				abort = m
			case m["msg"] == "client aborted request" && m["route"] == "/data/*":
				request = m
			}
		}
	}
	if abort["level"] != "INFO" || request["level"] != "INFO" || request["status"] != float64(499) {
		t.Fatalf("abort logged as %v and %v", abort, request)
	}
	if strings.Contains(s.logText(), "data endpoint failed") {
		t.Fatalf("the abort was logged as a server error:\n%s", s.logText())
	}
	// The upload is still open: the client may send its bytes again.
	if r := f.send(tk, "", []byte("second try")); r.Status != http.StatusOK {
		t.Fatalf("PUT after an abort: %d %s", r.Status, r.Body)
	}
}

// TestAPIClientAbortIsA499: a client that breaks off an API request mid-body (HTTP/1.1 closes
// the connection, HTTP/2 resets the stream) is logged as a client abort and counted as 499.
func TestAPIClientAbortIsA499(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	route := "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}"
	isError := func(m map[string]any) bool { return m["level"] == "ERROR" }
	errorsBefore := len(logLines(s, isError))
	for proto, c := range protocols(s) {
		t.Run(proto, func(t *testing.T) {
			aborted := func(m map[string]any) bool { return m["msg"] == "client aborted request" && m["route"] == route }
			before := len(logLines(s, aborted))
			p := startBody(c, "PUT", s.url+f.url("abort.txt")+"?access_token="+url.QueryEscape(f.token), nil, `{"copyFr`, 4<<10)
			p.body.CloseWithError(errors.New("the client gives up"))
			select {
			case r := <-p.answers:
				t.Fatalf("the aborted request was answered %d %s", r.Status, r.Body)
			case <-p.errs:
			case <-time.After(hangBound):
				t.Fatal("the client's abort did not end the request")
			}
			line := waitForLog(t, s, aborted, before)
			if line["level"] != "INFO" || line["status"] != float64(499) {
				t.Fatalf("abort logged as %v", line)
			}
		})
	}
	if errs := logLines(s, isError); len(errs) > errorsBefore {
		t.Fatalf("an abort was logged as an error: %v", errs[errorsBefore:])
	}
}

// logLines answers the log records of the system that match accepts, in the order written. On
// the split runner the log is every process's, other tests' lines included: callers count what
// they match, not every line.
func logLines(s *system, match func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.logText(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && match(m) {
			out = append(out, m)
		}
	}
	return out
}

// waitForLog waits (bounded: a hang fails) for the server to log a line that match accepts,
// after the first skip such lines, and answers it.
func waitForLog(t *testing.T, s *system, match func(map[string]any) bool, skip int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for {
		if lines := logLines(s, match); len(lines) > skip {
			return lines[skip]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such log line:\n%s", s.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
