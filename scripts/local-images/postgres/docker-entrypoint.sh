#!/bin/bash
# Entrypoint of the local postgres image (scripts/local-images.sh): the part of the official
# postgres image's contract that docker-compose.yaml relies on, on Debian's postgresql-15.
#   - POSTGRES_PASSWORD (required on first start): the postgres superuser's password;
#   - PGDATA (default /var/lib/postgresql/data): initdb there on first start, when it holds no
#     cluster yet; the same pg_hba as the official image: trust on the socket and loopback,
#     scram-sha-256 from anywhere else; listen on every address;
#   - runs as the postgres user: as is (compose's `user: postgres`), or dropped to it from root
#     after making PGDATA its own;
#   - `docker run IMAGE -c key=value` passes the flags to postgres.
# POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS and /docker-entrypoint-initdb.d are not
# supported: the compose file uses none of them.
set -euo pipefail

if [[ "${1:-}" == -* ]]; then set -- postgres "$@"; fi

if [[ "${1:-}" == postgres ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi
  # A fresh named volume takes the image's 0700; a bind mount may not have it, and initdb and
  # postgres refuse a group- or world-readable data directory.
  chmod 700 "$PGDATA" 2>/dev/null || true
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
      echo "docker-entrypoint: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
      exit 1
    fi
    # The password reaches initdb through a pipe, never a file or the command line.
    initdb --username=postgres --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") -D "$PGDATA" >/dev/null
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "docker-entrypoint: initialized $PGDATA" >&2
  fi
fi
exec "$@"
