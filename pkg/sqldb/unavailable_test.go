package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// TestMarkUnavailable checks the one classification of database errors (docs/operations.md):
// a database that cannot be reached, drops the connection, refuses connections for now or does
// not answer within the call's deadline is marked unavailable (503); what the request itself
// met (a missing row, a constraint, bad SQL) and the caller's own cancellation stay unmarked,
// so a real bug still answers 500.
func TestMarkUnavailable(t *testing.T) {
	pgErr := func(code string) error {
		return fmt.Errorf("store: %w", &pgconn.PgError{Severity: "ERROR", Code: code})
	}
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"connection refused (a real dial)", refusedConnect(t), true},
		{"connection reset mid-query", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"database/sql bad connection", fmt.Errorf("sqldb: begin: %w", driver.ErrBadConn), true},
		{"database/sql connection done", sql.ErrConnDone, true},
		{"pgx connection closed", pgconn.ErrConnClosed, true},
		{"connection closed mid-message", io.ErrUnexpectedEOF, true},
		{"08006 connection failure", pgErr("08006"), true},
		{"57P01 admin shutdown", pgErr("57P01"), true},
		{"57P03 cannot connect now", pgErr("57P03"), true},
		{"53300 too many connections", pgErr("53300"), true},
		{"the call's deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"23505 unique violation", pgErr("23505"), false},
		{"42601 syntax error", pgErr("42601"), false},
		{"40001 serialization failure", pgErr("40001"), false},
		{"no rows", sql.ErrNoRows, false},
		{"the caller gave up", fmt.Errorf("query: %w", context.Canceled), false},
		{"anything else", errors.New("scan: unexpected column"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := markUnavailable(context.Background(), tt.err)
			if marked := errors.Is(got, smherr.ErrUnavailable); marked != tt.unavailable {
				t.Fatalf("%v: marked %v, want %v", tt.err, marked, tt.unavailable)
			}
			if !errors.Is(got, tt.err) {
				t.Fatalf("the cause is lost: %v", got)
			}
		})
	}
	if markUnavailable(context.Background(), nil) != nil {
		t.Fatal("nil became an error")
	}

	// Whatever error a statement ends with once the call's own deadline has passed (a driver
	// may answer "conn closed" or its own text) is the database's failure.
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	if err := markUnavailable(expired, errors.New("conn closed")); !errors.Is(err, smherr.ErrUnavailable) {
		t.Fatalf("after the deadline: %v", err)
	}
}

// refusedConnect answers pgx's error for a server that refuses connections: a dial to a port
// that was free a moment ago.
func refusedConnect(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
	if err == nil {
		_ = conn.Close(ctx)
		t.Fatalf("a server answered on %s", addr)
	}
	return err
}
