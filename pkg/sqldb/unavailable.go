package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// markUnavailable marks err with smherr.ErrUnavailable when it says that the database, not the
// request, failed: the server could not be reached or dropped the connection, refuses
// connections for now, or did not answer within the call's deadline (ctx is the call's own
// context, TxTimeout included). Every other error, and one from a caller that gave up
// (context.Canceled), is answered as it is, so a real bug still answers 500. What an outage
// answers, for every kind of dependency: docs/operations.md.
func markUnavailable(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || (ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return smherr.Unavailable(err)
	}
	if connectionLost(err) {
		return smherr.Unavailable(err)
	}
	return err
}

// connectionLost reports whether err is a failure to reach or keep a connection to the database.
func connectionLost(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
		pgErr      *pgconn.PgError
	)
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pgErr):
		// Class 08 (connection exception), the server shutting down or starting up
		// (57P01-57P03), and "too many connections" (53300) pass once the server is back.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return false
}
