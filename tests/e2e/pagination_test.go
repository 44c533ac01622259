package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// A directory walked page by page over HTTPS while other entries come and go: every entry that
// exists throughout is seen exactly once, in both directions (issue 3 item 6; keyset markers).
func TestPaginationUnderConcurrentChanges(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		lib := s.createLibrary("paging", map[string]any{"isFileLibrary": true})
		admin := s.mustMint(lib, url.Values{"grant": {"admin"}})
		d := dirAPI{s: s, lib: lib.ID, space: "-"}
		var stable []string
		for i := range 400 {
			stable = append(stable, fmt.Sprintf("big/s%04d", i))
		}
		d.mkdirs(t, admin, stable)

		for _, order := range []string{"asc", "desc"} {
			t.Run(order, func(t *testing.T) {
				ctx, stop := context.WithCancel(context.Background())
				var churn sync.WaitGroup
				churn.Add(1)
				go func() {
					defer churn.Done()
					// Names interleave with the stable ones in name order ("s0007x" sorts after
					// "s0007"), so the keyset boundary is crossed by inserts and deletes all the time.
					// Raw requests: this goroutine must not fail the test (only the test's own may).
					send := func(method, path string) {
						req, err := http.NewRequestWithContext(ctx, method, s.url+path+"?"+q(admin).Encode(), nil)
						if err != nil {
							return
						}
						if resp, err := s.http.Do(req); err == nil {
							resp.Body.Close()
						}
					}
					for i := 0; ctx.Err() == nil; i++ {
						name := fmt.Sprintf("big/s%04dx", (i*37)%400)
						send("PUT", d.url(name, false))
						send("DELETE", d.url(name, false))
					}
				}()
				seen := map[string]int{}
				marker := ""
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("the walk does not end")
					}
					query := q(admin, "limit", "37", "order_by", "name", "order_by_type", order)
					if marker != "" {
						query.Set("marker", marker)
					}
					r := d.do("GET", "big", query, nil)
					if r.Status != http.StatusOK {
						t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
					}
					page := r.JSON(t)
					for _, n := range names(t, page) {
						seen[n]++
					}
					next, _ := page["nextMarker"].(string)
					if next == "" {
						break
					}
					marker = next
				}
				stop()
				churn.Wait()
				for _, full := range stable {
					name := full[len("big/"):]
					if seen[name] != 1 {
						t.Fatalf("%s seen %d times", name, seen[name])
					}
				}
			})
		}
	})
}
