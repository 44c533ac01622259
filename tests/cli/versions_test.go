package cli

import (
	"fmt"
	"strings"
	"testing"
)

// version is an entry of smh versions ls --json.
type version struct {
	ID              int64  `json:"id"`
	Version         int64  `json:"version"`
	IsLatestVersion bool   `json:"isLatestVersion"`
	Size            string `json:"size"`
}

func TestVersions(t *testing.T) {
	lib := newLibrary(t, `{"enableFileHistory":true,"fileHistoryCount":5}`, "--file-library")
	u := lib.owner(t)
	u.ok("put", u.writeFile("v1/plan.txt", []byte("old plan")), lib.at("plan.txt"))
	u.ok("put", "--conflict", "overwrite", u.writeFile("v2/plan.txt", []byte("the new plan")), lib.at("plan.txt"))

	var vs []version
	u.okJSON(&vs, "versions", "ls", lib.at("plan.txt"))
	if len(vs) != 2 || !vs[0].IsLatestVersion || vs[0].ID != 0 || vs[0].Size != "12" || vs[1].ID == 0 || vs[1].Version != 1 || vs[1].Size != "8" {
		t.Fatalf("versions ls: %+v", vs)
	}
	old := fmt.Sprint(vs[1].ID)
	if out := u.ok("versions", "ls", lib.at("plan.txt")); !strings.Contains(out, "current") || !strings.Contains(out, old+"  v1") {
		t.Fatalf("versions ls output:\n%s", out)
	}

	// Restore the old content: it is the file again, and the replaced content is kept.
	var restored struct{ Size string }
	u.okJSON(&restored, "versions", "restore", lib.at("plan.txt"), old)
	if restored.Size != "8" {
		t.Fatalf("versions restore answered %+v", restored)
	}
	if got := u.ok("get", lib.at("plan.txt"), "-"); got != "old plan" {
		t.Fatalf("after restore the file holds %q", got)
	}
	u.okJSON(&vs, "versions", "ls", lib.at("plan.txt"))
	if len(vs) != 3 || vs[1].Size != "12" {
		t.Fatalf("versions after restore: %+v", vs)
	}

	// rm deletes kept versions; an id that is not the file's is refused before any change.
	newer := fmt.Sprint(vs[1].ID)
	u.ok("put", u.writeFile("other.txt", []byte("other")), lib.at("other.txt"))
	u.fails(1, "has no version", "versions", "rm", lib.at("other.txt"), newer)
	u.fails(1, "has no version", "versions", "restore", lib.at("plan.txt"), "999999999")
	u.ok("versions", "rm", lib.at("plan.txt"), newer)
	u.okJSON(&vs, "versions", "ls", lib.at("plan.txt"))
	if len(vs) != 2 || fmt.Sprint(vs[1].ID) != old {
		t.Fatalf("versions after rm: %+v", vs)
	}
	u.fails(1, "NotFound", "versions", "ls", lib.at("missing.txt"))

	for _, args := range [][]string{
		{"versions"},
		{"versions", "ls", lib.at("")},
		{"versions", "restore", lib.at("plan.txt")},
		{"versions", "restore", lib.at("plan.txt"), "latest"},
		{"versions", "rm", lib.at("plan.txt"), "0"},
	} {
		if r := u.run(args...); r.code != 2 {
			t.Errorf("smh %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
