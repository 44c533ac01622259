SHELL := /bin/bash
# Every module of the workspace, as package patterns (the workspace root is not a module).
PKGS = $(shell go list -m -f '{{.Dir}}/...')
BINARIES := smh=services/smh/cmd/smh library=services/library/cmd/library authtoken=services/authtoken/cmd/authtoken namespace=services/namespace/cmd/namespace object=services/object/cmd/object gateway=services/gateway/cmd/gateway
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# The last released contract, a buf image: make test fails when proto/ breaks it on the wire.
RELEASED_CONTRACT := proto/released/v1.binpb

.PHONY: all build run test e2e-split fuzz vet staticcheck breaking release-contract generate check-generated check-tidy check-k8s bench clean

all: build

## build: every binary into bin/
build:
	@mkdir -p bin
	@for b in $(BINARIES); do \
	  name=$${b%%=*}; dir=$${b#*=}; \
	  (cd $$dir && go build -ldflags "-X github.com/opensmh/opensmh/services/smh/internal/cli.Version=$(VERSION)" -o $(CURDIR)/bin/$$name .) || exit 1; \
	done

## run: the all-in-one on embedded defaults (data in ./data, https://127.0.0.1:8443)
run: build
	bin/smh serve

## test: generated code is current, modules are tidy, vet, staticcheck, no breaking contract change, then every test with the race detector (tests/deploy checks the deployment files), then the fuzz targets
test: check-generated check-tidy vet staticcheck breaking build
	# The e2e package runs every route on both engines under -race: past go test's 10 min default.
	go test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) e2e-split
	@test -n "$$SMH_TEST_POSTGRES_DSN" || echo "NOTE: PostgreSQL store tests NOT RUN (set SMH_TEST_POSTGRES_DSN to run them)"
	scripts/fuzz.sh

## e2e-split: the e2e suite's split runner: its splitSuite against a split deployment (3 etcd
## members, PostgreSQL, two replicas of every service, object on S3, two gateways); docs/testing.md
e2e-split:
	cd tests && SMH_E2E_DEPLOYMENT=split go test -race -count=1 -timeout 20m ./e2e

## fuzz: every fuzz target of the workspace for FUZZTIME each (default 10s); fails on any crash
fuzz:
	scripts/fuzz.sh

# The deployment files are checked by tests/deploy, part of make test's go test: docker-compose.yaml
# and the Dockerfile statically (compose_rules_test.go; tests/compose runs the compose file on a real
# engine), k8s/ rendered, schema-validated and dry-run (check-k8s runs those tests alone).
## check-k8s: k8s/ rendered, decoded strictly, schema-validated, the project's rules, and a server-side dry run on a real kube-apiserver (built once per machine, minutes cold)
check-k8s:
	go test -count=1 -timeout 30m -run 'K8s' ./tests/deploy/

vet:
	go vet $(PKGS)

# staticcheck at the version pinned in scripts/tools.sh, over every module; run from the workspace
# root, so go.work resolves each module's packages.
staticcheck:
	@scripts/tools.sh
	.bin/staticcheck $(PKGS)

# The contract in proto/ against the last released one, at buf.yaml's breaking level (WIRE).
breaking:
	@scripts/tools.sh
	.bin/buf breaking proto --against $(RELEASED_CONTRACT)

## release-contract: record proto/ as the released contract (on purpose only: then a break passes make test)
release-contract:
	@scripts/tools.sh
	.bin/buf build proto --exclude-source-info -o $(RELEASED_CONTRACT)

## generate: lint the protos and regenerate gen/ with the pinned tools
generate:
	scripts/generate.sh

# Fails when gen/ differs from what make generate produces.
check-generated: generate
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has files make generate does not produce"; exit 1; }

# Every module pins the same shared versions: go work sync must change nothing.
check-tidy:
	@go work sync
	@git diff --exit-code --stat -- go.work '*/go.mod' '*/go.sum' || { echo "go work sync changed module files: commit them"; exit 1; }

## bench: throughput and latency against baselines measured in the same run
bench:
	cd bench && go run . $(BENCHFLAGS)

clean:
	rm -rf bin
