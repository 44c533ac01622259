#!/usr/bin/env bash
# Installs the code-generation and lint tools at pinned versions into .bin/ (git-ignored).
# buf comes from the npm registry (the package carries the same binary as a go install, in seconds);
# the protoc plugins and staticcheck come from the Go module proxy. Nothing here talks to a schema registry.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GRPC_GATEWAY_VERSION=v2.33.0
STATICCHECK_VERSION=v0.8.2

mkdir -p .bin
bin="$PWD/.bin"

have() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
mark() { echo "$2" > "$bin/.$1.version"; }

if ! have buf "$BUF_VERSION"; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm install --silent --no-audit --no-fund --prefix "$tmp" "@bufbuild/buf-linux-x64@$BUF_VERSION" >/dev/null)
  cp "$tmp/node_modules/@bufbuild/buf-linux-x64/bin/buf" "$bin/buf"
  rm -rf "$tmp"
  mark buf "$BUF_VERSION"
fi

goinstall() { # name module version
  if ! have "$1" "$3"; then
    GOBIN="$bin" GOFLAGS=-mod=mod GOWORK=off go install "$2@$3"
    mark "$1" "$3"
  fi
}
goinstall protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
goinstall protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
goinstall protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway "$GRPC_GATEWAY_VERSION"
goinstall protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2 "$GRPC_GATEWAY_VERSION"
goinstall staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
