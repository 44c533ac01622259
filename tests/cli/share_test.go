package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// shared is an item of smh share ls --json.
type shared struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Code        string `json:"code"`
	IsPermanent bool   `json:"isPermanent"`
	ExpireTime  string `json:"expireTime"`
	CanDownload bool   `json:"canDownload"`
}

// visit GETs a public URL of the server as a visitor would, without credentials.
func visit(t *testing.T, url string) (int, []byte) {
	t.Helper()
	c, err := httpsClient()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestShare(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	u.ok("mkdir", lib.at("docs"))
	u.ok("put", u.writeFile("report.pdf", []byte("%PDF report")), lib.at("docs/"))
	u.ok("put", u.writeFile("data.csv", []byte("a,b")), lib.at("docs/"))

	var sh struct {
		ID, Code, Endpoint string
		IsPermanent        bool
	}
	u.okJSON(&sh, "share", "create", "--code", "x1Y2", "--expire", "7d", "--name", "the report", lib.at("docs/report.pdf"), lib.at("docs/data.csv"))
	if sh.ID == "" || sh.IsPermanent || sh.Endpoint != server.url+"/s/"+sh.Code {
		t.Fatalf("share create answered %+v", sh)
	}
	// The link's page answers, and the link's public detail names the share and asks for the code.
	if status, _ := visit(t, sh.Endpoint); status != http.StatusOK {
		t.Fatalf("GET %s: %d", sh.Endpoint, status)
	}
	status, body := visit(t, server.url+"/api/v1/share/url-detail/"+sh.Code)
	var detail struct {
		Name               string `json:"name"`
		NeedExtractionCode bool   `json:"needExtractionCode"`
		CanDownload        bool   `json:"canDownload"`
	}
	if err := json.Unmarshal(body, &detail); status != http.StatusOK || err != nil || detail.Name != "the report" || !detail.NeedExtractionCode || !detail.CanDownload {
		t.Fatalf("url-detail: %d %s", status, body)
	}

	// The human form prints the link; a permanent share of a directory takes its name.
	out := u.ok("share", "create", "--download=false", lib.at("docs"))
	if !strings.Contains(out, "url:      "+server.url+"/s/") || !strings.Contains(out, "expires:  never") {
		t.Fatalf("share create output:\n%s", out)
	}

	var list []shared
	u.okJSON(&list, "share", "ls", lib.at(""))
	if len(list) != 2 || list[0].ID != sh.ID || list[0].Name != "the report" || list[0].IsPermanent || !list[0].CanDownload ||
		list[1].Name != "docs" || !list[1].IsPermanent || list[1].CanDownload {
		t.Fatalf("share ls: %+v", list)
	}
	if expire, err := time.Parse(time.RFC3339, list[0].ExpireTime); err != nil || time.Until(expire) < 6*24*time.Hour || time.Until(expire) > 8*24*time.Hour {
		t.Fatalf("--expire 7d made expireTime %q", list[0].ExpireTime)
	}
	if out := u.ok("share", "ls", lib.at("")); !strings.Contains(out, sh.ID+"  enabled") || !strings.Contains(out, "never") {
		t.Fatalf("share ls output:\n%s", out)
	}

	// rm: the share is gone from the list, and its link stops answering.
	u.ok("share", "rm", lib.at(""), sh.ID)
	u.okJSON(&list, "share", "ls", lib.at(""))
	if len(list) != 1 || list[0].Name != "docs" {
		t.Fatalf("share ls after rm: %+v", list)
	}
	if status, body := visit(t, server.url+"/api/v1/share/url-detail/"+sh.Code); status != http.StatusNotFound {
		t.Fatalf("url-detail of a deleted share: %d %s", status, body)
	}
	u.fails(1, "ShareNotFound", "share", "rm", lib.at(""), sh.ID)
	u.fails(1, "FileNotFound", "share", "create", lib.at("docs/missing.txt"))

	for _, args := range [][]string{
		{"share"},
		{"share", "create"},
		{"share", "create", lib.at("")},
		{"share", "create", "--code", "toolong7", lib.at("docs")},
		{"share", "create", "--code", "a b", lib.at("docs")},
		{"share", "create", "--expire", "soon", lib.at("docs")},
		{"share", "create", lib.at("docs"), lib.ID + "/other:docs"},
		{"share", "ls", lib.at("docs")},
		{"share", "rm", lib.at("")},
		{"share", "rm", lib.at(""), "../x"},
	} {
		if r := u.run(args...); r.code != 2 {
			t.Errorf("smh %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
