package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/services/smh/server"
)

// The share visitor measurement (issue 13, docs/shares.md "Visitor bytes"), once per store
// engine, on an all-in-one of its own:
//
//	(q) a share visitor's round on a shared 4 KiB file: list the share's root, download the file
//	    (13.11 ?download) and follow the 302 to its bytes, with a share access token verified once;
//	    against the owner's own download of the same file (3.8, following the 302), same run,
//	    same client. Target: visitor throughput >= 0.8x the owner's. The visitor's download
//	    alone (no list) is printed too, so the cost of the extra list call is visible, and so are
//	    the list alone and the trivial route /livez, with the ratio a list costing no more than
//	    /livez would allow (docs/shares.md "Visitor speed").
//
// The visitor rate limits are abuse limits, not speed limits: the run raises them (shareBench
// Options) so that it measures the path, not the limiter.

const (
	shareFileSize = 4 << 10
	// shareRounds alternates the sides so that drift of the shared machine hits both.
	shareRounds = 3
)

// raiseVisitorLimits lifts the per (share, client address) limit for the run: one client here
// makes every request, which the default limit would rightly slow down.
func raiseVisitorLimits(o *server.Options) {
	limits := ratelimit.DefaultShareLimits()
	limits.Visits, limits.ShareVisits = shareVisitsRaised, shareVisitsRaised
	o.ShareLimits = &limits
}

// shareVisitsRaised is the run's visitor limit: far above what the clients can ask.
var shareVisitsRaised = ratelimit.Rate{Events: 1_000_000, Per: time.Second, Burst: 1_000_000}

func runShare(ctx context.Context, d time.Duration, c int) error {
	return onEachEngine(ctx, "(q)", func(e engine) error { return shareVsOwner(ctx, e, d, c) })
}

func shareVsOwner(ctx context.Context, e engine, d time.Duration, c int) error {
	in, err := startInstanceWith(ctx, c, func(o *server.Options) {
		o.SQLDSN = e.dsn
		raiseVisitorLimits(o)
	})
	if err != nil {
		return err
	}
	defer in.stop()
	a := newObjAPI(in)
	data := make([]byte, shareFileSize)
	_, _ = rand.Read(data)
	t, err := a.begin("shared.bin")
	if err != nil {
		return err
	}
	if _, err := a.send(a.big, t, bytes.NewReader(data), int64(len(data))); err != nil {
		return err
	}
	if _, err := a.confirm(t.ConfirmKey, crcOf(data, int64(len(data)))); err != nil {
		return err
	}
	body, err := in.do("POST", in.srv.URL+"/api/v1/share/"+in.libraryID+"/-?access_token="+url.QueryEscape(in.token),
		map[string]any{"name": "bench", "filePath": []string{"shared.bin"}, "config": map[string]any{"isPermanent": true, "canDownload": true}}, http.StatusOK)
	if err != nil {
		return err
	}
	var share struct{ Code string }
	if err := json.Unmarshal(body, &share); err != nil || share.Code == "" {
		return fmt.Errorf("create share: %v %.200s", err, body)
	}
	body, err = in.do("POST", in.srv.URL+"/api/v1/share/verify/"+share.Code, map[string]string{"extractionCode": ""}, http.StatusOK)
	if err != nil {
		return err
	}
	var verified struct{ AccessToken string }
	if err := json.Unmarshal(body, &verified); err != nil || verified.AccessToken == "" {
		return fmt.Errorf("verify: %v %.200s", err, body)
	}
	visitorURL := func(chain, flag string) string {
		return in.srv.URL + "/api/v1/share/file/" + share.Code + "/" + chain + "?" + flag + "&access_token=" + url.QueryEscape(verified.AccessToken)
	}
	// follow GETs a route that answers 302 and then the bytes it names, checking them.
	follow := func(u string) error {
		resp, err := a.big.Get(u)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return fmt.Errorf("GET %s: status %d, want 302", resp.Request.URL.Path, resp.StatusCode)
		}
		resp, err = a.big.Get(resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
			return fmt.Errorf("bytes: status %d, %d bytes, want the %d shared", resp.StatusCode, len(got), len(data))
		}
		return nil
	}
	list := func() (string, error) {
		body, err := in.do("GET", visitorURL("", "list"), nil, http.StatusOK)
		if err != nil {
			return "", err
		}
		var page struct {
			Contents []struct{ Name, Inode string }
		}
		if err := json.Unmarshal(body, &page); err != nil || len(page.Contents) != 1 || page.Contents[0].Inode == "" {
			return "", fmt.Errorf("list: %v %.200s", err, body)
		}
		return page.Contents[0].Inode, nil
	}
	inode, err := list()
	if err != nil {
		return err
	}
	var firstErr firstError
	owner := firstErr.keep("owner", func(int, int) error { return follow(a.fileURL("shared.bin")) })
	visitorOnly := firstErr.keep("visitor download", func(int, int) error { return follow(visitorURL(inode, "download")) })
	listOnly := firstErr.keep("visitor list", func(int, int) error { _, err := list(); return err })
	livez := firstErr.keep("/livez", func(int, int) error {
		_, err := in.do("GET", in.srv.URL+"/livez", nil, http.StatusOK)
		return err
	})
	visitor := firstErr.keep("visitor list + download", func(int, int) error {
		in, err := list()
		if err != nil {
			return err
		}
		return follow(visitorURL(in, "download"))
	})
	// Verify once, untimed: every path answers the right bytes before anything is measured.
	for _, op := range []func(int, int) error{owner, visitor, visitorOnly} {
		if err := op(0, 0); err != nil {
			return err
		}
	}
	slice := d / shareRounds
	var owners, visitors, visitorsOnly, lists, livezs []result
	for range shareRounds {
		owners = append(owners, measure(c, slice, owner))
		visitors = append(visitors, measure(c, slice, visitor))
		visitorsOnly = append(visitorsOnly, measure(c, slice, visitorOnly))
		lists = append(lists, measure(c, slice, listOnly))
		livezs = append(livezs, measure(c, slice, livez))
	}
	o, v, vo, l, lz := merge(owners), merge(visitors), merge(visitorsOnly), merge(lists), merge(livezs)
	fmt.Printf("(q) share visitor vs owner on %s: a shared %d-byte file, %d clients, each round following the 302 to the bytes\n", e.name, shareFileSize, c)
	fmt.Printf("    visitor rate limits raised for the run to %s per (share, address) and per share: the defaults (%s, %s) bound abuse, not speed (docs/shares.md)\n",
		shareVisitsRaised, ratelimit.DefaultShareLimits().Visits, ratelimit.DefaultShareLimits().ShareVisits)
	fmt.Printf("    owner download (3.8)          %s\n", o)
	fmt.Printf("    visitor list + download       %s\n", v)
	fmt.Printf("    visitor download only         %s\n", vo)
	fmt.Printf("    visitor list alone            %s\n", l)
	fmt.Printf("    trivial route (/livez)        %s\n", lz)
	fmt.Printf("    ratio visitor/owner           %.2f   (list + download rounds per second; target >= 0.8)\n", v.rate()/o.rate())
	fmt.Printf("    ratio visitor download/owner  %.2f   (download rounds only: a visitor who listed the folder once)\n", vo.rate()/o.rate())
	// The machine is saturated, so a round's cost is the sum of its requests' costs: with a list
	// that cost no more than the trivial route, the ratio could reach at most this.
	fmt.Printf("    ceiling with a list as cheap as /livez  %.2f   (owner round / (/livez + visitor download round))\n\n",
		1/o.rate()/(1/lz.rate()+1/vo.rate()))
	if err := firstErr.get(); err != nil {
		return fmt.Errorf("failed rounds (owner %d, visitor %d, visitor download only %d), the first: %w", o.errors, v.errors, vo.errors, err)
	}
	return nil
}

// firstError keeps the first error of the measured operations, to say why rounds failed.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) keep(what string, op func(int, int) error) func(int, int) error {
	return func(w, i int) error {
		err := op(w, i)
		if err != nil {
			f.mu.Lock()
			if f.err == nil {
				f.err = fmt.Errorf("%s: %w", what, err)
			}
			f.mu.Unlock()
		}
		return err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// merge sums the measurements of the interleaved slices: operations and time add up; the
// latency percentiles are the slices' medians (each slice's own are exact).
func merge(rs []result) result {
	var out result
	var p50s, p99s []time.Duration
	for _, r := range rs {
		out.ops += r.ops
		out.errors += r.errors
		out.elapsed += r.elapsed
		if r.ops > 0 { // a slice where every round failed has no latencies
			p50s, p99s = append(p50s, r.p50), append(p99s, r.p99)
		}
	}
	if len(p50s) == 0 {
		return out
	}
	out.p50, out.p99 = median(p50s), median(p99s)
	return out
}
