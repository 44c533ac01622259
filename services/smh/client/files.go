package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Entry is a file or directory as listings (4.2), info (4.3) and confirm (3.4) describe it.
type Entry struct {
	Name string `json:"name"`
	// Path is the entry's path from the space root as segments (absent in listings).
	Path []string `json:"path,omitempty"`
	// Type is dir, file, image, video, symlink or virtual.
	Type             string            `json:"type"`
	Size             Int64             `json:"size"`
	CRC64            string            `json:"crc64,omitempty"`
	ETag             string            `json:"eTag,omitempty"`
	ContentType      string            `json:"contentType,omitempty"`
	CreationTime     string            `json:"creationTime,omitempty"`
	ModificationTime string            `json:"modificationTime,omitempty"`
	Inode            string            `json:"inode,omitempty"`
	MetaData         map[string]string `json:"metaData,omitempty"`
	Labels           []string          `json:"labels,omitempty"`
}

// IsDir tells a directory (or album) from everything else.
func (e Entry) IsDir() bool { return e.Type == "dir" }

// Conflict strategies of uploads, copies and moves (smh-api.md section 3).
const (
	Ask       = "ask"
	Rename    = "rename"
	Overwrite = "overwrite"
)

// strategyQuery answers q with the conflict strategy, if one is given.
func strategyQuery(strategy string) url.Values {
	q := url.Values{}
	if strategy != "" {
		q.Set("conflict_resolution_strategy", strategy)
	}
	return q
}

// listPage is one page of a marker-mode listing (4.2).
type listPage struct {
	NextMarker string  `json:"nextMarker"`
	Contents   []Entry `json:"contents"`
}

// List calls fn for each entry of the directory dir ("" = the root), in the server's order,
// a page of up to 1000 at a time.
func (s *Space) List(ctx context.Context, dir string, fn func(Entry) error) error {
	return eachPage(func(marker string) ([]Entry, string, error) {
		q := markerQuery("1000", marker)
		q.Set("by-marker", "1")
		var page listPage
		_, err := s.call(ctx, "GET", s.url("directory", dir), q, nil, &page)
		if len(page.Contents) == 0 {
			return nil, "", err
		}
		return page.Contents, page.NextMarker, err
	}, fn)
}

// Stat describes the file or directory at path (4.3); the root is a directory.
func (s *Space) Stat(ctx context.Context, path string) (Entry, error) {
	if strings.Trim(path, "/") == "" {
		return Entry{Type: "dir"}, nil
	}
	var e Entry
	_, err := s.call(ctx, "GET", s.url("directory", path), url.Values{"info": {""}}, nil, &e)
	return e, err
}

// Mkdir creates the directory path and any missing parents (4.1). An existing directory is a
// 409 SameNameDirectoryOrFileExists unless existOK.
func (s *Space) Mkdir(ctx context.Context, path string, existOK bool) error {
	_, err := s.call(ctx, "PUT", s.url("directory", path), strategyQuery(Ask), nil, nil)
	if err != nil && existOK && IsStatus(err, http.StatusConflict) {
		if e, serr := s.Stat(ctx, path); serr == nil && e.IsDir() {
			return nil
		}
	}
	return err
}

// Delete removes the file or directory at path (3.12, 4.5): into the recycle bin when the library
// keeps one, unless permanent. It answers the recycle-bin item id, 0 when none was made.
func (s *Space) Delete(ctx context.Context, path string, dir, permanent bool) (int64, error) {
	q := url.Values{}
	if permanent {
		q.Set("permanent", "1")
	}
	kind := "file"
	if dir {
		kind = "directory"
	}
	var out struct {
		RecycledItemID int64 `json:"recycledItemId"`
	}
	_, err := s.call(ctx, "DELETE", s.url(kind, path), q, nil, &out)
	return out.RecycledItemID, err
}

// Copy copies the file or directory src to dst (3.13, 4.6) and answers where it landed. A
// directory copy the server runs as a task is waited for.
func (s *Space) Copy(ctx context.Context, src, dst string, dir bool, strategy string) ([]string, error) {
	return s.relocate(ctx, "copyFrom", src, dst, dir, strategy)
}

// Move moves or renames the file or directory src to dst (3.14, 4.7) and answers where it landed.
func (s *Space) Move(ctx context.Context, src, dst string, dir bool, strategy string) ([]string, error) {
	return s.relocate(ctx, "from", src, dst, dir, strategy)
}

func (s *Space) relocate(ctx context.Context, key, src, dst string, dir bool, strategy string) ([]string, error) {
	kind := "file"
	if dir {
		kind = "directory"
	}
	var out struct {
		Path   []string `json:"path"`
		TaskID int64    `json:"taskId"`
	}
	status, err := s.call(ctx, "PUT", s.url(kind, dst), strategyQuery(strategy), map[string]string{key: src}, &out)
	if err != nil {
		return nil, err
	}
	if status == http.StatusAccepted && out.TaskID != 0 {
		return s.waitTask(ctx, out.TaskID)
	}
	if out.Path == nil {
		return splitPath(dst), nil
	}
	return out.Path, nil
}

// task is one entry of a task query (7.1).
type task struct {
	Status int `json:"status"`
	Result struct {
		Path []string `json:"path"`
	} `json:"result"`
}

// waitTask polls a task (7.1) until it ends and answers its result's path.
func (s *Space) waitTask(ctx context.Context, id int64) ([]string, error) {
	wait := 100 * time.Millisecond
	for {
		var tasks []task
		if _, err := s.call(ctx, "GET", s.url("task", strconv.FormatInt(id, 10)), nil, nil, &tasks); err != nil {
			return nil, err
		}
		if len(tasks) != 1 {
			return nil, fmt.Errorf("task %d: the server answered %d tasks", id, len(tasks))
		}
		switch tasks[0].Status {
		case http.StatusAccepted:
		case http.StatusOK, http.StatusNoContent:
			return tasks[0].Result.Path, nil
		default:
			return nil, &Error{Status: tasks[0].Status, Code: "TaskFailed", Message: fmt.Sprintf("task %d ended with status %d", id, tasks[0].Status)}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// splitPath answers a slash-separated path as segments.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
