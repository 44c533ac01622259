# OpenSMH: one image holding every binary; the command picks which one runs.
#
#   DOCKER_BUILDKIT=1 docker build -t opensmh --build-arg VERSION=$(git describe --always --dirty) .
#   docker run opensmh                      # smh serve (all-in-one, the default CMD)
#   docker run opensmh library --help       # or authtoken | namespace | object | gateway | smh
#
# There is no .dockerignore: only the sources the Go workspace needs are copied below, so bin/,
# data/ (keys, local CA) and .git never reach the build context's layers.
#
# BuildKit is needed (RUN --mount caches); there is no `# syntax` line, so the builder's own
# Dockerfile frontend is used and nothing is pulled for it. The base images are build arguments
# naming the official ones; where no image registry is reachable, scripts/local-images.sh builds
# stand-ins and prints the values (GO_IMAGE=$SMH_GO_IMAGE, RUNTIME_IMAGE=$SMH_RUNTIME_IMAGE).
ARG GO_IMAGE=golang:1.26
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# ---- build ------------------------------------------------------------------------------
FROM ${GO_IMAGE} AS build
WORKDIR /src
# Module files first, so the dependency download is cached until a go.mod/go.sum changes.
# Every module named in go.work must be present for workspace mode to load.
COPY go.work go.work.sum ./
COPY gen/go.mod gen/go.sum gen/
COPY console/go.mod console/
COPY pkg/go.mod pkg/go.sum pkg/
COPY services/library/go.mod services/library/go.sum services/library/
COPY services/authtoken/go.mod services/authtoken/go.sum services/authtoken/
COPY services/namespace/go.mod services/namespace/go.sum services/namespace/
COPY services/object/go.mod services/object/go.sum services/object/
COPY services/gateway/go.mod services/gateway/go.sum services/gateway/
COPY services/smh/go.mod services/smh/go.sum services/smh/
COPY bench/go.mod bench/go.sum bench/
COPY tests/go.mod tests/go.sum tests/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY gen gen
COPY console console
COPY pkg pkg
COPY services services
COPY bench bench
COPY tests tests
# Same binaries and version stamp as `make build` (the golang image has no make; without .git
# the Makefile's `git describe` cannot work anyway, hence the build argument).
ARG VERSION=dev
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags "-s -w -X github.com/opensmh/opensmh/services/smh/internal/cli.Version=${VERSION}" \
      -o /out/bin/ \
      ./services/smh/cmd/smh \
      ./services/library/cmd/library \
      ./services/authtoken/cmd/authtoken \
      ./services/namespace/cmd/namespace \
      ./services/object/cmd/object \
      ./services/gateway/cmd/gateway \
 && mkdir -p /out/data

# ---- run --------------------------------------------------------------------------------
# distroless static: no shell, no package manager; CA certificates and /etc/passwd with the
# nonroot user (65532) are included (and in the local stand-in too).
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/bin/ /usr/local/bin/
# /data belongs to the nonroot user so a fresh named volume mounted there (docker copies the
# image's ownership into it) is writable: the all-in-one keeps etcd, keys, TLS, blobs and (default
# --sql-dsn) its SQLite stores there, the gateway its local CA, the object service its blobs.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
# 8443: HTTPS (smh, gateway); 9101 library, 9102 authtoken, 9103 namespace and 9104 object gRPC,
# 9105 the object service's data endpoint (HTTP, proxied by the gateway) (internal, plaintext).
# No ffmpeg in this image: the object service then makes no video covers (a cover request answers
# the video itself).
EXPOSE 8443 9101 9102 9103 9104 9105
# No ENTRYPOINT, so `docker run opensmh gateway ...` runs that binary.
CMD ["smh", "serve", "--listen", "0.0.0.0:8443", "--data-dir", "/data"]
