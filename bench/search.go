package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The search measurement (docs/search.md, issue 12 item 8):
//
//	(n) a name search (search-fs, one keyword, first page) in a space of 1,000,000 entries
//	    against the same search in a space of 10,000 entries, both through HTTPS on one
//	    all-in-one; p50 and p99 of each, and their ratios (target <= 2), once per engine.
//
// The spaces are filled by bulk SQL through the store's own engine (one INSERT ... SELECT per
// kind of row, so a fill takes seconds, not the hours a million REST creates would): directory
// rows, then file rows spread over them, with names drawn from a small vocabulary of words,
// numbers and extensions. The index triggers (SQLite) and the index (PostgreSQL) are those of
// the real schema; only the per-directory counters are left as they were, which search never
// reads. The keyword names 50 files in each space (one in 20,000 of the big space, one in 200
// of the small): the same answer in both, so the ratio shows what the space's size costs.

const (
	searchBigSpace   = 1_000_000
	searchSmallSpace = 10_000
	// searchHits is how many files of each space hold the keyword.
	searchHits = 50
	// searchRounds is how many searches of each space are timed, interleaved.
	searchRounds = 300
	searchWord   = "quarterly"
)

// runSearch runs (n) once per engine: SQLite always, PostgreSQL when the DSN is set.
func runSearch(ctx context.Context) error {
	return onEachEngine(ctx, "(n)", func(e engine) error { return benchSearch(ctx, e) })
}

func benchSearch(ctx context.Context, e engine) error {
	in, err := startInstance(ctx, e.dsn, 1)
	if err != nil {
		return err
	}
	defer in.stop()
	big, err := in.library(`{"isFileLibrary":true,"enableSearch":true}`)
	if err != nil {
		return err
	}
	small, err := in.library(`{"isFileLibrary":true,"enableSearch":true}`)
	if err != nil {
		return err
	}
	db, err := openRaw(e.dsn, in.dir, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	for _, sp := range []struct {
		lib     *instance
		entries int
	}{{big, searchBigSpace}, {small, searchSmallSpace}} {
		// The space row comes with the library's first use.
		if _, err := sp.lib.do("PUT", sp.lib.api("directory", "seed"), nil, http.StatusCreated); err != nil {
			return err
		}
		if err := fillSearchSpace(ctx, db, sp.lib.libraryID, sp.entries); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return err
	}
	fill := time.Since(start)

	search := func(lib *instance) (time.Duration, error) {
		t0 := time.Now()
		out, err := lib.do("POST", lib.api("search", "search-fs"), map[string]any{"keywords": []string{searchWord}}, http.StatusOK)
		took := time.Since(t0)
		if err != nil {
			return 0, err
		}
		var page struct {
			NextMarker string
			Contents   []struct{ Name string }
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return 0, err
		}
		if len(page.Contents) != 20 || page.NextMarker == "" || !strings.Contains(page.Contents[0].Name, searchWord) {
			return 0, fmt.Errorf("unexpected page: %.300s", out)
		}
		return took, nil
	}
	// Warm both, then interleave so both see the same machine state.
	var bigT, smallT []time.Duration
	for round := -10; round < searchRounds; round++ {
		b, err := search(big)
		if err != nil {
			return err
		}
		s, err := search(small)
		if err != nil {
			return err
		}
		if round >= 0 {
			bigT, smallT = append(bigT, b), append(smallT, s)
		}
	}
	p := func(ds []time.Duration, q int) time.Duration {
		s := slices.Sorted(slices.Values(ds))
		return s[len(s)*q/100]
	}
	b50, b99, s50, s99 := p(bigT, 50), p(bigT, 99), p(smallT, 50), p(smallT, 99)
	fmt.Printf("(n) %s: name search, one keyword matching %d files, first page of 20, through HTTPS (spaces made by bulk SQL in %s)\n",
		e.name, searchHits, fill.Round(100*time.Millisecond))
	fmt.Printf("    %9d entries    p50 %9s  p99 %9s  (%d searches)\n", searchBigSpace, short(b50), short(b99), len(bigT))
	fmt.Printf("    %9d entries    p50 %9s  p99 %9s  (%d searches)\n", searchSmallSpace, short(s50), short(s99), len(smallT))
	fmt.Printf("    ratio 1M / 10k     p50 %.2f  p99 %.2f  (target <= 2)\n\n", float64(b50)/float64(s50), float64(b99)/float64(s99))
	return nil
}

// fillSearchSpace adds entries rows to the library's space "-": one directory per 1,000 entries
// at the root, the rest files spread over them. searchHits files hold searchWord.
func fillSearchSpace(ctx context.Context, db *sql.DB, libraryID string, entries int) error {
	dirs := entries / 1000
	files := entries - dirs
	lib := "'" + strings.ReplaceAll(libraryID, "'", "''") + "'"
	now := time.Now().UnixMilli()
	series := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < %d) ", n-1)
	}
	if _, err := db.ExecContext(ctx, series(dirs)+fmt.Sprintf(`INSERT INTO nodes (library_id, space_id, parent_inode, name, type, is_dir,
		user_id, created_at, modified_at) SELECT %s, '-', 0, 'folder-' || CAST(x AS TEXT), 'dir', 1, 'bench', %d, %d FROM c`, lib, now, now)); err != nil {
		return err
	}
	var first, last int64
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT MIN(inode), MAX(inode) FROM nodes WHERE library_id = %s
		AND space_id = '-' AND parent_inode = 0 AND name LIKE 'folder-%%'`, lib)).Scan(&first, &last); err != nil {
		return err
	}
	if last-first+1 != int64(dirs) {
		return fmt.Errorf("directory inodes are not contiguous (%d..%d for %d)", first, last, dirs)
	}
	words := []string{"invoice", "photo", "draft", "meeting", "notes", "budget", "scan", "backup", "contract", "summary", "slides", "report"}
	exts := []string{".txt", ".pdf", ".docx", ".jpg", ".xlsx", ".mp4", ".png"}
	word := "CASE x % " + fmt.Sprint(len(words))
	for i, w := range words {
		word += fmt.Sprintf(" WHEN %d THEN '%s'", i, w)
	}
	word += " END"
	ext := "CASE (x / 7) % " + fmt.Sprint(len(exts))
	for i, x := range exts {
		ext += fmt.Sprintf(" WHEN %d THEN '%s'", i, x)
	}
	ext += " END"
	every := files / searchHits
	name := fmt.Sprintf("CASE WHEN x %% %d = 7 THEN '%s-' || CAST(x AS TEXT) || '.pdf' ELSE %s || '-' || CAST(x AS TEXT) || %s END",
		every, searchWord, word, ext)
	_, err := db.ExecContext(ctx, series(files)+fmt.Sprintf(`INSERT INTO nodes (library_id, space_id, parent_inode, name, type, is_dir,
		user_id, created_at, modified_at, size, content_type) SELECT %s, '-', %d + (x %% %d), %s, 'file', 0, 'bench', %d, %d,
		x %% 100000, 'application/octet-stream' FROM c`, lib, first, dirs, name, now, now))
	return err
}
