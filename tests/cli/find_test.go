package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	lib := newLibrary(t, `{"enableSearch":true}`, "--file-library")
	u := lib.owner(t)
	u.ok("mkdir", "-p", lib.at("projects/alpha"), lib.at("misc"))
	u.ok("put", u.writeFile("Plan-report.pdf", []byte("%PDF plan")), lib.at("projects/alpha/"))
	u.ok("put", u.writeFile("budget.xlsx", []byte(strings.Repeat("b", 3000))), lib.at("projects/"))
	u.ok("put", u.writeFile("report-budget.txt", []byte("r")), lib.at("misc/"))

	find := func(args ...string) []string {
		t.Helper()
		var hits []struct {
			Remote string   `json:"remote"`
			Path   []string `json:"path"`
			Type   string   `json:"type"`
		}
		u.okJSON(&hits, append([]string{"find"}, args...)...)
		var out []string
		for _, h := range hits {
			if h.Remote != lib.at(strings.Join(h.Path, "/")) {
				t.Fatalf("hit %+v: remote and path disagree", h)
			}
			out = append(out, strings.TrimPrefix(h.Remote, lib.ID+":"))
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{lib.at(""), "--name", "REPORT"}, []string{"misc/report-budget.txt", "projects/alpha/Plan-report.pdf"}},
		{[]string{lib.at(""), "--name", "report", "--name", "budget"}, []string{"misc/report-budget.txt", "projects/alpha/Plan-report.pdf", "projects/budget.xlsx"}},
		{[]string{lib.at("projects"), "--type", "file"}, []string{"projects/alpha/Plan-report.pdf", "projects/budget.xlsx"}},
		{[]string{lib.at(""), "--type", "dir"}, []string{"misc", "projects", "projects/alpha"}},
		{[]string{lib.at(""), "--ext", "pdf", "--ext", "txt"}, []string{"misc/report-budget.txt", "projects/alpha/Plan-report.pdf"}},
		{[]string{lib.at(""), "--type", "file", "--min-size", "2k"}, []string{"projects/budget.xlsx"}},
		{[]string{lib.at(""), "--type", "file", "--newer", "1d", "--max-size", "1"}, []string{"misc/report-budget.txt"}},
		{[]string{lib.at(""), "--older", "1d"}, nil},
		{[]string{lib.at(""), "--name", "nothing-like-it"}, nil},
	} {
		if got := find(tt.args...); !slices.Equal(got, tt.want) {
			t.Errorf("smh find %s: %q, want %q", strings.Join(tt.args, " "), got, tt.want)
		}
	}
	if out := u.ok("find", lib.at(""), "--name", "alpha"); out != lib.at("projects/alpha")+"/\n" {
		t.Fatalf("find output %q", out)
	}

	// More hits than a page (100): find follows the markers to the end.
	for i := range 105 {
		u.writeFile(fmt.Sprintf("many/note-%03d.txt", i), []byte("n"))
	}
	u.ok("put", "-r", filepath.Join(u.dir, "many"), lib.at(""))
	if got := find(lib.at("many"), "--name", "note-"); len(got) != 105 || got[0] != "many/note-000.txt" || got[104] != "many/note-104.txt" {
		t.Fatalf("find over pages: %d hits %q", len(got), got)
	}

	for _, args := range [][]string{
		{"find"},
		{"find", lib.at(""), "--type", "image"},
		{"find", lib.at(""), "--min-size", "lots"},
		{"find", lib.at(""), "--newer", "yesterday"},
		{"find", lib.at(""), "--older", "0d"},
	} {
		if r := u.run(args...); r.code != 2 {
			t.Errorf("smh %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	off := newLibrary(t, "", "--file-library")
	off.owner(t).fails(1, "SearchNotEnabled", "find", off.at(""), "--name", "x")
}
