package cli

import (
	"fmt"
	"strings"
	"testing"
)

// binned is an item of smh trash ls --json.
type binned struct {
	ID           int64    `json:"recycledItemId"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	OriginalPath []string `json:"originalPath"`
	Size         string   `json:"size"`
}

// trash answers the bin's items, newest removal first.
func (u user) trash(space string) []binned {
	u.t.Helper()
	var items []binned
	u.okJSON(&items, "trash", "ls", space)
	return items
}

func TestTrash(t *testing.T) {
	lib := newLibrary(t, `{"useRecycleBin":true}`, "--file-library")
	u := lib.owner(t)
	u.ok("mkdir", lib.at("docs"))
	u.ok("put", u.writeFile("a.txt", []byte("first a")), lib.at("docs/"))
	u.ok("put", u.writeFile("b.txt", []byte("bee")), lib.at("docs/"))
	u.ok("put", u.writeFile("c.txt", []byte("sea")), lib.at(""))

	if items := u.trash(lib.at("")); len(items) != 0 {
		t.Fatalf("a new bin holds %v", items)
	}
	// rm puts a file and a whole directory in the bin, each one item.
	var deleted []struct {
		RecycledItemID int64 `json:"recycledItemId"`
	}
	u.okJSON(&deleted, "rm", lib.at("docs/a.txt"))
	fileID := deleted[0].RecycledItemID
	u.ok("rm", "-r", lib.at("docs"))
	u.ok("rm", lib.at("c.txt"))
	items := u.trash(lib.at(""))
	if len(items) != 3 || items[2].ID != fileID || items[2].Name != "a.txt" || strings.Join(items[2].OriginalPath, "/") != "docs/a.txt" ||
		items[1].Type != "dir" || items[1].Size != "3" || items[0].Name != "c.txt" {
		t.Fatalf("trash ls: %+v", items)
	}
	dirID, cID := items[1].ID, items[0].ID
	if out := u.ok("trash", "ls", lib.at("")); !strings.Contains(out, "DIR  ") || !strings.Contains(out, "docs/a.txt") {
		t.Fatalf("trash ls output:\n%s", out)
	}

	// Restore makes the missing parent again; a taken name is refused under ask, kept under rename.
	if out := u.ok("trash", "restore", lib.at(""), fmt.Sprint(fileID)); !strings.Contains(out, lib.at("docs/a.txt")) {
		t.Fatalf("restore printed %q", out)
	}
	if got := u.ok("get", lib.at("docs/a.txt"), "-"); got != "first a" {
		t.Fatalf("restored file holds %q", got)
	}
	u.ok("put", u.writeFile("c.txt", []byte("new sea")), lib.at(""))
	u.fails(1, "SameNameDirectoryOrFileExists", "trash", "restore", lib.at(""), fmt.Sprint(cID))
	var restored []struct{ Path string }
	u.okJSON(&restored, "trash", "restore", "--conflict", "rename", lib.at(""), fmt.Sprint(cID))
	if len(restored) != 1 || restored[0].Path != lib.at("c (1).txt") {
		t.Fatalf("restore --conflict rename: %+v", restored)
	}
	if got := u.ok("get", lib.at("c (1).txt"), "-"); got != "sea" {
		t.Fatalf("renamed restore holds %q", got)
	}

	// rm purges some (all or nothing); empty purges the rest.
	u.ok("rm", lib.at("c.txt"))
	u.fails(1, "RecycledItemNotFound", "trash", "rm", lib.at(""), fmt.Sprint(dirID), "999999999")
	if len(u.trash(lib.at(""))) != 2 {
		t.Fatal("a refused purge removed something")
	}
	u.ok("trash", "rm", lib.at(""), fmt.Sprint(dirID))
	if items := u.trash(lib.at("")); len(items) != 1 || items[0].Name != "c.txt" {
		t.Fatalf("after trash rm: %+v", items)
	}
	u.fails(1, "RecycledItemNotFound", "trash", "restore", lib.at(""), fmt.Sprint(dirID))
	u.ok("trash", "empty", lib.at(""))
	if items := u.trash(lib.at("")); len(items) != 0 {
		t.Fatalf("after trash empty: %+v", items)
	}

	// Usage errors before any call, and the bin switched off.
	for _, args := range [][]string{
		{"trash"},
		{"trash", "ls"},
		{"trash", "ls", lib.at("docs")},
		{"trash", "restore", lib.at("")},
		{"trash", "restore", lib.at(""), "x1"},
		{"trash", "restore", "--conflict", "merge", lib.at(""), "1"},
		{"trash", "rm", lib.at(""), "0"},
		{"trash", "empty", "nowhere"},
	} {
		if r := u.run(args...); r.code != 2 {
			t.Errorf("smh %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	off := newLibrary(t, "", "--file-library")
	off.owner(t).fails(1, "RecycleBinNotEnabled", "trash", "ls", off.at(""))
}
