package cli

import (
	"strings"
	"testing"
)

// usage is smh quota --json.
type usage struct {
	Space struct {
		SpaceID        string  `json:"spaceId"`
		Size           string  `json:"size"`
		Capacity       *string `json:"capacity"`
		AvailableSpace *string `json:"availableSpace"`
	} `json:"space"`
	Library *struct {
		TotalFileSize  string  `json:"totalFileSize"`
		Capacity       *string `json:"capacity"`
		AvailableSpace *string `json:"availableSpace"`
	} `json:"library"`
}

func TestQuota(t *testing.T) {
	lib := newLibrary(t, `{"enableQuota":true,"libraryQuota":1000,"useRecycleBin":true}`, "--file-library")
	u := lib.owner(t)
	var q usage
	u.okJSON(&q, "quota", lib.at(""))
	if q.Space.SpaceID != "-" || q.Space.Size != "0" || q.Library == nil || q.Library.Capacity == nil || *q.Library.Capacity != "1000" ||
		*q.Library.AvailableSpace != "1000" {
		t.Fatalf("quota of an empty library: %+v %+v", q.Space, q.Library)
	}

	// An upload uses bytes; a binned file still does (the bin counts toward usage).
	u.ok("put", u.writeFile("a.bin", []byte(strings.Repeat("a", 600))), lib.at("a.bin"))
	u.ok("rm", lib.at("a.bin"))
	u.okJSON(&q, "quota", lib.at(""))
	if q.Space.Size != "600" || q.Library.TotalFileSize != "600" || *q.Library.AvailableSpace != "400" {
		t.Fatalf("quota after an upload: %+v %+v", q.Space, q.Library)
	}
	if out := u.ok("quota", lib.at("")); !strings.Contains(out, "used:       600") || !strings.Contains(out, "cap 1000, available 400") {
		t.Fatalf("quota output:\n%s", out)
	}
	// What does not fit is refused, and the quota shows why.
	u.fails(1, "QuotaLimitReached", "put", u.writeFile("b.bin", []byte(strings.Repeat("b", 500))), lib.at("b.bin"))
	u.ok("trash", "empty", lib.at(""))
	u.okJSON(&q, "quota", lib.at(""))
	if q.Space.Size != "0" {
		t.Fatalf("quota after emptying the bin: %+v", q.Space)
	}

	// A library without a cap: none.
	free := newLibrary(t, "", "--file-library")
	if out := free.owner(t).ok("quota", free.at("")); !strings.Contains(out, "quota:      none") || !strings.Contains(out, "cap none") {
		t.Fatalf("quota of a free library:\n%s", out)
	}
	u.fails(2, "nothing after the colon", "quota", lib.at("a.bin"))
	// A single-tenant library has one space, "-".
	u.fails(1, "AccessTokenNotMatchSpace", "quota", lib.ID+"/nospace:")
}
