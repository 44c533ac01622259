package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the raw-insert baseline opens the store's SQLite file

	"github.com/opensmh/opensmh/services/namespace/storetest"
)

const (
	// bigDirSize is the number of children of the directory that (e) pages through and (g) moves.
	bigDirSize = 100_000
	// pageLimit is the listing page size of (e), the largest the API allows.
	pageLimit = 1000
	// moveRounds is how many times (g) moves each directory.
	moveRounds = 20
)

// engine is one namespace store engine to measure on.
type engine struct {
	name string
	dsn  string       // "" = SQLite in the data dir
	drop func() error // removes what was created for the run (PostgreSQL: the database)
}

// runNamespace runs (e)-(g) once per engine, each on its own all-in-one: SQLite always,
// PostgreSQL when storetest.PostgresDSNEnv names a server (on a database created for the run).
func runNamespace(ctx context.Context, d time.Duration, c int, only string) error {
	return onEachEngine(ctx, "(e)-(g)", func(e engine) error { return benchEngine(ctx, e, d, c, only) })
}

// onEachEngine runs measure on every engine of storeEngines, each on a database of its own: every
// engine runs even if one fails, every database is dropped, and a run without PostgreSQL says so
// (label names the measurements in messages).
func onEachEngine(ctx context.Context, label string, measure func(e engine) error) error {
	engines, err := storeEngines(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range engines {
		if err := measure(e); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", label, e.name, err))
		}
		if err := e.drop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: drop: %w", e.name, err))
		}
	}
	if len(engines) == 1 {
		fmt.Printf("%s PostgreSQL NOT RUN (set %s to a maintenance DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)\n\n", label, storetest.PostgresDSNEnv)
	}
	return errors.Join(errs...)
}

// storeEngines answers the engines to measure on: SQLite always, PostgreSQL when
// storetest.PostgresDSNEnv names a server (on a database created for the run).
func storeEngines(ctx context.Context) ([]engine, error) {
	engines := []engine{{name: "SQLite", drop: func() error { return nil }}}
	if admin := os.Getenv(storetest.PostgresDSNEnv); admin != "" {
		dsn, drop, err := newPostgresDatabase(ctx, admin)
		if err != nil {
			return nil, err
		}
		engines = append(engines, engine{name: "PostgreSQL", dsn: dsn, drop: drop})
	}
	return engines, nil
}

// newPostgresDatabase creates a database smh_bench_<random> next to the maintenance DSN's (as
// storetest does for tests) and answers its DSN and a function that drops it.
func newPostgresDatabase(ctx context.Context, adminDSN string) (string, func() error, error) {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", storetest.PostgresDSNEnv, err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return "", nil, fmt.Errorf("%s must be a postgres:// URL", storetest.PostgresDSNEnv)
	}
	admin := stdlib.OpenDB(*cfg)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "smh_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	// Without autovacuum nothing analyses the store's tables as they grow, and plans chosen for
	// an empty table can make every create scan the directory: say so next to the figures.
	var autovacuum string
	if err := admin.QueryRowContext(ctx, "SHOW autovacuum").Scan(&autovacuum); err == nil && autovacuum != "on" {
		fmt.Printf("note: PostgreSQL autovacuum is %s on this server, so no table is ever analysed\n\n", autovacuum)
	}
	u.Path = "/" + name
	drop := func() error {
		defer admin.Close()
		// FORCE: a connection the stopped server leaked must not keep the database alive.
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

// benchEngine starts an all-in-one on the engine and runs the selected measurements. (g) moves
// the tree (e) fills, so (g) fills it too when (e) is not selected.
func benchEngine(ctx context.Context, e engine, d time.Duration, c int, only string) error {
	in, err := startInstance(ctx, e.dsn, c)
	if err != nil {
		return err
	}
	defer in.stop()
	ns := nsAPI{instance: in, c: c}
	fmt.Printf("namespace store: %s (own all-in-one, fsync on, %d concurrent clients)\n\n", e.name, c)

	if strings.ContainsAny(only, "eg") {
		if err := deepPagination(ns, e.name, strings.Contains(only, "e")); err != nil {
			return err
		}
	}
	if strings.Contains(only, "f") {
		if err := createsVsInserts(ctx, ns, e, d); err != nil {
			return err
		}
	}
	if strings.Contains(only, "g") {
		if err := moveCost(ns, e.name); err != nil {
			return err
		}
	}
	return nil
}

// nsAPI addresses the directory endpoints of the instance's library (single space "-").
type nsAPI struct {
	*instance
	c int // concurrent clients
}

// url answers the URL of dir (segments are plain ASCII here) with the token and query.
func (n nsAPI) url(dir string, kv ...string) string {
	q := url.Values{"access_token": {n.token}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return n.srv.URL + "/api/v1/directory/" + n.libraryID + "/-/" + dir + "?" + q.Encode()
}

func (n nsAPI) mkdir(dir string) error {
	_, err := n.do("PUT", n.url(dir), nil, http.StatusCreated)
	return err
}

func (n nsAPI) move(from, to string) error {
	_, err := n.do("PUT", n.url(to), map[string]string{"from": from}, http.StatusNoContent)
	return err
}

// The tree of (e) and (g): bigParent/bigChild holds bigDirSize directories; (g) moves bigParent.
const (
	bigParent = "tree"
	bigChild  = "big"
)

// fillDir creates count directories dir/dNNNNNN from n.c clients and answers how long it took.
// The work is a fixed count, not a duration, so measure() does not fit: workers take names
// from a shared counter, and the first error stops the fill (a partial tree would make a walk's
// assertion fail for the wrong reason).
func (n nsAPI) fillDir(dir string, count int64) (time.Duration, error) {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range n.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failed.Load() == nil {
				i := next.Add(1) - 1
				if i >= count {
					return
				}
				if err := n.mkdir(fmt.Sprintf("%s/d%06d", dir, i)); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return 0, fmt.Errorf("fill: %w", *p)
	}
	return time.Since(start), nil
}

// deepPagination fills bigParent/bigChild and, when report is set, walks it page by page and
// prints (e).
func deepPagination(n nsAPI, engineName string, report bool) error {
	dir := bigParent + "/" + bigChild
	if err := n.mkdir(dir); err != nil {
		return err
	}
	fill, err := n.fillDir(dir, bigDirSize)
	if err != nil {
		return err
	}
	if !report {
		return nil
	}

	// One untimed request first, so that the first timed page does not pay for anything the
	// fill left cold.
	if _, err := n.do("GET", n.url(dir, "limit", fmt.Sprint(pageLimit)), nil, http.StatusOK); err != nil {
		return err
	}
	seen := make(map[string]struct{}, bigDirSize)
	var pages []time.Duration
	marker := ""
	for {
		kv := []string{"limit", fmt.Sprint(pageLimit)}
		if marker != "" {
			kv = append(kv, "marker", marker)
		}
		t0 := time.Now()
		body, err := n.do("GET", n.url(dir, kv...), nil, http.StatusOK)
		if err != nil {
			return fmt.Errorf("page %d: %w", len(pages)+1, err)
		}
		var page struct {
			Contents   []struct{ Name string }
			NextMarker string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("page %d: %w", len(pages)+1, err)
		}
		// Decoding is part of what a client pays per page, and it does not grow with depth.
		pages = append(pages, time.Since(t0))
		for _, c := range page.Contents {
			if _, dup := seen[c.Name]; dup {
				return fmt.Errorf("walk: %q listed twice (page %d)", c.Name, len(pages))
			}
			seen[c.Name] = struct{}{}
		}
		if page.NextMarker == "" {
			break
		}
		if len(pages) > 2*bigDirSize/pageLimit {
			return errors.New("walk: the listing does not end")
		}
		marker = page.NextMarker
	}
	if len(seen) != bigDirSize {
		return fmt.Errorf("walk: saw %d distinct names in %d pages, want %d", len(seen), len(pages), bigDirSize)
	}
	first, last := median(pages[:min(5, len(pages))]), median(pages[max(0, len(pages)-5):])
	fmt.Printf("(e) deep pagination on %s: one directory with %d children, limit=%d, marker mode\n", engineName, bigDirSize, pageLimit)
	fmt.Printf("    fill (REST)      %d creates in %s: %.0f/s\n", bigDirSize, fill.Round(100*time.Millisecond), bigDirSize/fill.Seconds())
	fmt.Printf("    walk             %d pages, %d distinct names (checked), total %s\n", len(pages), len(seen), short(sum(pages)))
	fmt.Printf("    page ~1k deep    median %9s  (pages 1-5)\n", short(first))
	fmt.Printf("    page ~100k deep  median %9s  (last 5 pages)\n", short(last))
	fmt.Printf("    ratio            %.2f   (deep/shallow; target <= 1.5)\n\n", last.Seconds()/first.Seconds())
	return nil
}

// createsVsInserts prints (f): directory creates through REST vs raw INSERTs of similar rows
// into a scratch table of the store's own database, at the same concurrency and duration.
func createsVsInserts(ctx context.Context, n nsAPI, e engine, d time.Duration) error {
	if err := n.mkdir("flat"); err != nil {
		return err
	}
	// The baseline has the store's costs that are not OpenSMH's: one transaction per row on
	// the same file or server, with fsync, a unique (parent, name) index and a few more columns.
	db, err := openRaw(e.dsn, n.dir, n.c)
	if err != nil {
		return err
	}
	defer db.Close()
	postgres := e.dsn != ""
	ddl := []string{
		"CREATE TABLE bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, library_id TEXT NOT NULL, space_id TEXT NOT NULL, parent_inode BIGINT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL, modified_at BIGINT NOT NULL)",
		"CREATE UNIQUE INDEX bench_raw_name ON bench_raw (library_id, space_id, parent_inode, name)",
	}
	insert := "INSERT INTO bench_raw (library_id, space_id, parent_inode, name, type, user_id, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	if postgres {
		ddl[0] = strings.Replace(ddl[0], "id INTEGER PRIMARY KEY AUTOINCREMENT", "id BIGSERIAL PRIMARY KEY", 1)
		ddl[0] = strings.ReplaceAll(ddl[0], "TEXT", `TEXT COLLATE "C"`)
		insert = "INSERT INTO bench_raw (library_id, space_id, parent_inode, name, type, user_id, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("scratch table: %w", err)
		}
	}
	defer func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE bench_raw") }()

	raw := measure(n.c, d, func(w, i int) error {
		now := time.Now().UnixMilli()
		_, err := db.ExecContext(ctx, insert, n.libraryID, "-", 42, fmt.Sprintf("w%02d-%d", w, i), "dir", "bench", now, now)
		return err
	})
	creates := measure(n.c, d, func(w, i int) error {
		return n.mkdir(fmt.Sprintf("flat/w%02d-%d", w, i))
	})
	fmt.Printf("(f) directory creates through REST vs raw SQL INSERTs on %s (same database, same concurrency)\n", e.name)
	fmt.Printf("    raw INSERT       %s\n", raw)
	fmt.Printf("    create (REST)    %s\n", creates)
	fmt.Printf("    ratio            %.2f\n\n", creates.rate()/raw.rate())
	if raw.errors > 0 || creates.errors > 0 {
		return fmt.Errorf("(f) had errors: %d raw, %d REST", raw.errors, creates.errors)
	}
	return nil
}

// openRaw opens the store's database for the baseline. SQLite: the data dir's namespace.db with
// the store's writer settings (WAL, busy timeout, BEGIN IMMEDIATE, one connection, so writers
// queue as the store's do). PostgreSQL: the store's DSN, one connection per client.
func openRaw(dsn, dataDir string, c int) (*sql.DB, error) {
	if dsn != "" {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(c)
		db.SetMaxIdleConns(c)
		return db, nil
	}
	q := url.Values{"_pragma": {"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "namespace.db")+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}

// moveCost prints (g): renaming bigParent (bigDirSize+1 descendants) vs an empty directory,
// alternating between the two so that both see the same machine state.
func moveCost(n nsAPI, engineName string) error {
	if err := n.mkdir("empty"); err != nil {
		return err
	}
	var big, empty []time.Duration
	timed := func(from, to string, into *[]time.Duration) error {
		t0 := time.Now()
		if err := n.move(from, to); err != nil {
			return err
		}
		*into = append(*into, time.Since(t0))
		return nil
	}
	// Each round renames away and back, so the names alternate and the tree ends where it began.
	for range moveRounds / 2 {
		for _, m := range []struct {
			from, to string
			into     *[]time.Duration
		}{
			{bigParent, bigParent + "-moved", &big}, {"empty", "empty-moved", &empty},
			{bigParent + "-moved", bigParent, &big}, {"empty-moved", "empty", &empty},
		} {
			if err := timed(m.from, m.to, m.into); err != nil {
				return err
			}
		}
	}
	// The subtree must still be whole after its moves.
	body, err := n.do("GET", n.url(bigParent+"/"+bigChild, "limit", "1"), nil, http.StatusOK)
	if err != nil {
		return err
	}
	var info struct{ SubDirCount int }
	if err := json.Unmarshal(body, &info); err != nil || info.SubDirCount != bigDirSize {
		return fmt.Errorf("after the moves %s/%s has %d subdirectories (%v), want %d", bigParent, bigChild, info.SubDirCount, err, bigDirSize)
	}
	fmt.Printf("(g) move (rename) cost vs subtree size on %s, %d moves each, alternating\n", engineName, len(big))
	fmt.Printf("    %-18s median %9s  max %9s\n", "empty dir", short(median(empty)), short(slices.Max(empty)))
	fmt.Printf("    %-18s median %9s  max %9s\n", fmt.Sprintf("%d descendants", bigDirSize+1), short(median(big)), short(slices.Max(big)))
	fmt.Printf("    ratio            %.2f   (should be about 1: a move is O(1))\n\n", median(big).Seconds()/median(empty).Seconds())
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}
