#!/usr/bin/env bash
# Installs Docker Compose v2 (`docker compose`) as a docker CLI plugin where Debian packages only
# docker-compose 1.29: built from its Go module (github.com/docker/compose/v5, the module's name
# since v5) at a pinned version, as its Makefile builds it (./cmd of the module as the main
# module, so its go.sum and exclude directives apply; `go install module@version` refuses a
# module with exclude directives).
#
#   scripts/compose-v2.sh            # then: docker compose version
#
# The binary is cached in ${XDG_CACHE_HOME:-$HOME/.cache}/opensmh/ (a few minutes to build cold,
# nothing when cached) and linked into PLUGIN_DIR (default /usr/local/lib/docker/cli-plugins,
# where Debian's docker 20.10 and newer clients look). v5.6.0 is the newest that builds with
# Go 1.26 (v5.7 needs Go 1.27).
set -euo pipefail

COMPOSE_VERSION=v5.6.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opensmh/compose-$COMPOSE_VERSION"
PLUGIN_DIR="${PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}"
bin="$cache/docker-compose"

if [[ ! -x "$bin" ]]; then
  echo "compose-v2: building docker compose $COMPOSE_VERSION from its Go module (a few minutes)" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  src="$(cd "$work" && GOWORK=off GOFLAGS= go mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" \
    | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [[ -f "$src/go.mod" ]] || { echo "compose-v2: could not download github.com/docker/compose/v5@$COMPOSE_VERSION" >&2; exit 1; }
  # The module cache is read-only; build in a writable copy.
  cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
  mkdir -p "$cache"
  (cd "$work/src" && GOWORK=off GOFLAGS= CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" -o "$bin.tmp" ./cmd)
  mv "$bin.tmp" "$bin"
fi
mkdir -p "$PLUGIN_DIR"
ln -sfn "$bin" "$PLUGIN_DIR/docker-compose"
