SHELL := /bin/bash
MODULES := gen pkg services/library services/authtoken services/gateway services/smh tests bench

.PHONY: generate check-generated build run test test-unit lint bench tidy

generate:
	scripts/generate.sh

# CI: fails when gen/ differs from what make generate produces.
check-generated: generate
	@git diff --exit-code -- gen/ || { echo "gen/ is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has untracked or missing files: run make generate and commit"; exit 1; }
