#!/usr/bin/env bash
# make generate: lint the contracts and regenerate gen/ from proto/ with the pinned tools.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
export PATH="$PWD/.bin:$PATH"
buf lint
# Generated files for RPCs or messages that were removed must not linger.
find gen/go gen/openapi -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.json' \) -delete 2>/dev/null || true
buf generate
