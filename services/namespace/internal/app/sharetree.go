package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// A share's tree for a folder zip (ListSharedTree), page by page. Each page resumes the
// depth-first walk where the last one ended, from a cursor naming that entry by its names, so a
// tree of N entries costs N reads however many pages it takes (re-walking the whole tree for
// each page made a zip of 10,000 entries read 100,000). docs/shares.md, "Visitor bytes".

// SharedTreeEntry is one entry under a listed directory, path relative to it.
type SharedTreeEntry struct {
	Path []string
	Node Node
}

// SharedTree is a page of a share's tree for a zip.
type SharedTree struct {
	Share      Share
	Name       string
	Entries    []SharedTreeEntry
	NextMarker string
}

// treeCursor is where a page ended: the last entry given, named by the share item it is in (at
// the share's root; 0 under a chain's directory) and its names below that item or directory.
// Names, not inodes, place it: a walk in name order resumes after a name whether or not that
// entry still exists, and a marker cannot point the walk at an inode outside the share.
type treeCursor struct {
	Item int64    `json:"i,omitempty"`
	Path []string `json:"p,omitempty"`
	// Descend: the entry was a directory, so its children come next.
	Descend bool `json:"d,omitempty"`
	// Given counts the entries of the earlier pages, for maxSharedTree.
	Given int `json:"n"`
}

const treeMarkerKind = "w"

// maxTreeCursorDepth bounds the names a marker may hold, as the store bounds a path's depth.
const maxTreeCursorDepth = 10000

func (c treeCursor) marker() string {
	b, _ := json.Marshal(c) // plain fields always marshal
	return treeMarkerKind + base64.RawURLEncoding.EncodeToString(b)
}

func parseTreeMarker(s string) (treeCursor, error) {
	var c treeCursor
	raw, ok := strings.CutPrefix(s, treeMarkerKind)
	if !ok {
		return c, ErrMarkerNotFound
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Given < 0 || c.Given > maxSharedTree || len(c.Path) > maxTreeCursorDepth ||
		slices.Contains(c.Path, "") {
		return treeCursor{}, ErrMarkerNotFound
	}
	return c, nil
}

// ListSharedTree answers a page of every entry under the chain's directory (the whole share
// for an empty chain), depth first, directories before their children and siblings in name
// order, for a zip (needs canDownload; not counted). trusted: the object service verified its
// own signed URL, so no visitor token travels (the share's state, canDownload and the chain are
// still checked). A tree beyond maxSharedTree entries is refused.
func (n *Namespace) ListSharedTree(ctx context.Context, code, inodes, marker string, limit int, trusted bool) (SharedTree, error) {
	chain, chainErr := ParseInodeChain(inodes)
	v, err := n.visitShareAt(ctx, code, chain, maxShareItems, !trusted)
	if err != nil {
		return SharedTree{}, err
	}
	sh := v.Share
	if !sh.Config.CanDownload {
		return SharedTree{}, ErrCannotDownload
	}
	if chainErr != nil {
		return SharedTree{}, chainErr
	}
	if v.ChainErr != nil {
		return SharedTree{}, v.ChainErr
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var at *treeCursor
	if marker != "" {
		c, err := parseTreeMarker(marker)
		if err != nil {
			return SharedTree{}, err
		}
		at = &c
	}
	w := &treeWalk{n: n, sh: sh, limit: limit}
	if at != nil {
		w.given = at.Given
	}
	out := SharedTree{Share: sh, Name: sh.Name}
	if len(chain) == 0 {
		if len(v.Items) == 0 {
			return SharedTree{}, ErrShareFileEmpty
		}
		err = w.items(ctx, v.Items, at)
	} else {
		dir := v.End
		if !dir.IsDir() {
			return SharedTree{}, invalid("the chain must end with a directory")
		}
		out.Name = dir.Name
		if at != nil && at.Item != 0 {
			return SharedTree{}, ErrMarkerNotFound // a marker of the share's root listing
		}
		err = w.resume(ctx, dir, nil, at)
	}
	if err != nil && !errors.Is(err, errPageFull) {
		return SharedTree{}, err
	}
	out.Entries = w.out[:min(len(w.out), limit)]
	if len(w.out) > limit {
		last := w.cursors[limit-1]
		last.Given = w.given + limit
		out.NextMarker = last.marker()
	}
	return out, nil
}

// errPageFull stops a walk once it found one entry more than its page holds.
var errPageFull = errors.New("page full")

// treeWalk gathers one page of a shared tree: up to limit entries, plus one to tell whether
// another page follows. cursors[i] names out[i].
type treeWalk struct {
	n       *Namespace
	sh      Share
	limit   int
	given   int
	item    int64 // the share item the walk is in (0 under a chain's directory)
	out     []SharedTreeEntry
	cursors []treeCursor
}

// emit takes an entry at rel (names below the item or the chain's directory) and path (in the
// zip); errPageFull when the page has its extra entry.
func (w *treeWalk) emit(e Node, rel, path []string) error {
	if w.given+len(w.out) >= maxSharedTree {
		return ErrTooManyItems
	}
	w.out = append(w.out, SharedTreeEntry{Path: path, Node: e})
	w.cursors = append(w.cursors, treeCursor{Item: w.item, Path: rel, Descend: e.IsDir()})
	if len(w.out) > w.limit {
		return errPageFull
	}
	return nil
}

// items walks the share's root: each item, then what it holds, from the cursor's item on.
func (w *treeWalk) items(ctx context.Context, items []Node, at *treeCursor) error {
	first := 0
	if at != nil {
		i := slices.IndexFunc(items, func(it Node) bool { return it.Inode == at.Item })
		if i < 0 {
			// The item the last page ended in left the share (deleted): its place is unknown.
			return ErrMarkerNotFound
		}
		w.item = items[i].Inode
		if items[i].IsDir() {
			if err := w.resume(ctx, items[i], []string{items[i].Name}, at); err != nil {
				return err
			}
		}
		first = i + 1
	}
	for _, it := range items[first:] {
		if it.IsSymlink() {
			continue // the zip holds files, not links: a link has no bytes of its own
		}
		w.item = it.Inode
		if err := w.emit(it, nil, []string{it.Name}); err != nil {
			return err
		}
		if it.IsDir() {
			if err := w.walk(ctx, it.Inode, nil, []string{it.Name}, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// resume walks dir's tree after the cursor: the children of the cursor's entry when it was a
// directory, then the later siblings of each directory on its path, deepest first. prefix is
// dir's path in the zip. A directory on the path that is gone since takes its later children
// with it; the walk goes on at the levels above.
func (w *treeWalk) resume(ctx context.Context, dir Node, prefix []string, at *treeCursor) error {
	if at == nil || (len(at.Path) == 0 && at.Descend) {
		return w.walk(ctx, dir.Inode, nil, prefix, "")
	}
	rel := at.Path
	if len(rel) == 0 {
		return nil // the cursor named dir itself, already walked
	}
	// dirs[j] is the directory holding rel[j], while the path still exists.
	dirs := []int64{dir.Inode}
	for j := 0; j < len(rel)-1; j++ {
		child, ok, err := w.child(ctx, dirs[j], rel[j])
		if err != nil {
			return err
		}
		if !ok || !child.IsDir() {
			break
		}
		dirs = append(dirs, child.Inode)
	}
	if at.Descend && len(dirs) == len(rel) {
		last, ok, err := w.child(ctx, dirs[len(rel)-1], rel[len(rel)-1])
		if err != nil {
			return err
		}
		if ok && last.IsDir() {
			if err := w.walk(ctx, last.Inode, rel, concat(prefix, rel), ""); err != nil {
				return err
			}
		}
	}
	for j := len(dirs) - 1; j >= 0; j-- {
		if err := w.walk(ctx, dirs[j], rel[:j], concat(prefix, rel[:j]), rel[j]); err != nil {
			return err
		}
	}
	return nil
}

// walk gives dir's children named after startName ("" = all) in name order, each followed by
// its own tree. rel is dir's names below the walk's start, prefix its path in the zip.
func (w *treeWalk) walk(ctx context.Context, dir int64, rel, prefix []string, startName string) error {
	opts := ListOptions{OrderBy: OrderName, Union: true, StartName: startName, Limit: 1000}
	for {
		page, err := w.n.store.List(ctx, w.sh.LibraryID, w.sh.SpaceID, dir, opts)
		if errors.Is(err, ErrNodeNotFound) || errors.Is(err, ErrNotDirectory) {
			return nil // gone (or replaced) since the page before: nothing of it to give
		}
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			if e.IsSymlink() {
				continue
			}
			r := concat(rel, []string{e.Name})
			if err := w.emit(e, r, concat(prefix, []string{e.Name})); err != nil {
				return err
			}
			if e.IsDir() {
				if err := w.walk(ctx, e.Inode, r, concat(prefix, []string{e.Name}), ""); err != nil {
					return err
				}
			}
		}
		if page.NextMarker == "" {
			return nil
		}
		opts.Marker = page.NextMarker
	}
}

// child finds dir's live child named name.
func (w *treeWalk) child(ctx context.Context, dir int64, name string) (Node, bool, error) {
	page, err := w.n.store.List(ctx, w.sh.LibraryID, w.sh.SpaceID, dir, ListOptions{OrderBy: OrderName, Union: true, Prefix: name, Limit: 1})
	if errors.Is(err, ErrNodeNotFound) || errors.Is(err, ErrNotDirectory) {
		return Node{}, false, nil
	}
	if err != nil {
		return Node{}, false, err
	}
	if len(page.Entries) == 0 || page.Entries[0].Name != name {
		return Node{}, false, nil
	}
	return page.Entries[0], true, nil
}

// concat answers a new slice of a followed by b (paths are kept per entry, so never shared).
func concat(a, b []string) []string {
	return append(slices.Clip(a), b...)
}
