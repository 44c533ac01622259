#!/usr/bin/env bash
# Builds, on a machine that reaches no image registry, local stand-ins for the images that
# docker-compose.yaml and the Dockerfile name, and prints the variables that select them:
#
#   eval "$(scripts/local-images.sh)"     # then: docker-compose up / docker compose up
#
#   SMH_GO_IMAGE        for golang:1.26           Debian bookworm (debootstrap) + the Go toolchain
#                                                 from the Go module proxy (golang.org/toolchain)
#   SMH_RUNTIME_IMAGE   for gcr.io/distroless/static-debian12:nonroot
#                                                 no shell: CA certificates, tzdata, /etc/passwd
#                                                 with nonroot (65532), USER 65532
#   SMH_ETCD_IMAGE      for gcr.io/etcd-development/etcd
#                                                 etcd and etcdctl built static from their Go
#                                                 modules (scripts/local-images/etcd) on the above
#   SMH_POSTGRES_IMAGE  for postgres:15           Debian's postgresql-15 and an entrypoint keeping
#                                                 the part of the official image's contract the
#                                                 compose file uses (scripts/local-images/postgres)
#
# Needs root (debootstrap), a running Docker engine, debootstrap, go and the Debian mirror named
# in /etc/apt/sources.list*. Only the Debian mirror and the Go module proxy are used.
#
# Idempotent: each image's tag carries a hash of what it is made from (its recipe below, the files
# it copies, the versions), so a tag already present is reused and the script returns in seconds;
# a change of any input makes a new tag. Progress goes to stderr, the export lines to stdout.
# DOCKER selects the docker client (default: Debian's /usr/bin/docker when present, which speaks
# the API of Debian's engine and builds with its built-in BuildKit).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/scripts/local-images"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opensmh"
if [[ -z "${DOCKER:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
SUITE=bookworm
GO_TOOLCHAIN=1.26.8
ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2 }' "$here/etcd/go.mod")"
PG_MAJOR=15

log() { echo "local-images: $*" >&2; }

# The Debian mirror this machine's apt uses (deb822 "URIs:" or a one-line "deb" entry).
mirror() {
  local m
  m="$(grep -hsE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)"
  [[ -n "$m" ]] || m="$(grep -hsE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)"
  echo "${m:-http://deb.debian.org/debian}"
}

have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# tag_hash FILE... : short content hash of the given inputs (an image's recipe, the files it
# copies) for that image's tag; a change to one image's recipe rebuilds that image and those
# made from it, not the Debian base.
tag_hash() { cat "$@" | sha256sum | cut -c1-12; }

BASE_RECIPE="debootstrap --variant=minbase --include=ca-certificates,tzdata $SUITE; import with CMD bash"
BASE="opensmh-local/debian:$SUITE-$(tag_hash <(echo "$BASE_RECIPE"))"

# The Go build image: the toolchain module GOTOOLCHAIN would fetch, on the Debian base. The
# module is checksum-verified against the Go checksum database and pinned here, so the image does
# not depend on which Go the host happens to have installed.
GO_DOCKERFILE="FROM $BASE
COPY . /usr/local/go
ENV GOLANG_VERSION=$GO_TOOLCHAIN GOTOOLCHAIN=local GOPATH=/go
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go"
GO_BASE_IMAGE="opensmh-local/golang-base:$GO_TOOLCHAIN-$(tag_hash <(echo "$GO_DOCKERFILE"))"
# On top, the host's CA bundle: the build's go mod download reaches the Go module proxy the way
# the host does, through whatever TLS-inspecting proxy the host trusts (Debian's bundle alone
# does not know its CA). A thin layer of its own, so a changed host bundle rebuilds only it.
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
GO_CA_DOCKERFILE="FROM $GO_BASE_IMAGE
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt"
GO_IMAGE="opensmh-local/golang:$GO_TOOLCHAIN-$(tag_hash <(echo "$GO_CA_DOCKERFILE") "$HOST_CA_BUNDLE")"

# The runtime image: distroless-like, no shell and no package manager; CA certificates, tzdata,
# /etc/passwd and /etc/group with root, nobody and nonroot (65532), running as nonroot.
RUNTIME_DOCKERFILE="FROM $BASE AS src
RUN mkdir -p /out/etc/ssl/certs /out/usr/share /out/tmp /out/home /home-nonroot \\
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \\
 && cp -a /usr/share/zoneinfo /out/usr/share/ \\
 && cp /etc/os-release /out/etc/ \\
 && printf '%s\\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \\
      'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /out/etc/passwd \\
 && printf '%s\\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' > /out/etc/group \\
 && printf '%s\\n' 'hosts: files dns' > /out/etc/nsswitch.conf \\
 && chmod 1777 /out/tmp && chmod 700 /home-nonroot
FROM scratch
# COPY keeps modes but makes every file root's: the home directory, copied on its own, is
# nonroot's.
COPY --from=src /out/ /
COPY --from=src --chown=65532:65532 /home-nonroot /home/nonroot
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot"
RUNTIME_IMAGE="opensmh-local/distroless-static:nonroot-$(tag_hash <(echo "$RUNTIME_DOCKERFILE"))"

# etcd: static etcd and etcdctl from their Go modules (scripts/local-images/etcd), on the runtime
# base; like the official image, root (no USER), the binaries in /usr/local/bin, etcd the CMD.
ETCD_DOCKERFILE="FROM $RUNTIME_IMAGE
USER 0:0
COPY etcd etcdctl /usr/local/bin/
WORKDIR /var/lib/etcd
EXPOSE 2379 2380
CMD [\"/usr/local/bin/etcd\"]"
ETCD_IMAGE="opensmh-local/etcd:$ETCD_VERSION-$(tag_hash <(echo "$ETCD_DOCKERFILE") "$here/etcd/go.mod" "$here/etcd/go.sum" "$here"/etcd/cmd/*/main.go)"

# postgres: Debian's postgresql-15 and an entrypoint with the part of the official image's
# contract the compose file uses. No default cluster: the entrypoint makes one in PGDATA. The
# socket directory is world-writable, as in the official image: a tmpfs mounted there (as the
# compose file does) copies the directory's mode, not its owner.
POSTGRES_DOCKERFILE="FROM $BASE
RUN mkdir -p /etc/postgresql-common/createcluster.d \\
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \\
 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-$PG_MAJOR >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
 && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql && chmod 700 /var/lib/postgresql/data \\
 && chmod 3777 /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/
ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
ENTRYPOINT [\"docker-entrypoint.sh\"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD [\"postgres\"]"
POSTGRES_IMAGE="opensmh-local/postgres:$PG_MAJOR-$(tag_hash <(echo "$POSTGRES_DOCKERFILE") "$here/postgres/docker-entrypoint.sh")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! have "$BASE"; then
  command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
  log "debootstrap $SUITE from $(mirror) (a minute or two)"
  debootstrap --variant=minbase --include=ca-certificates,tzdata "$SUITE" "$work/rootfs" "$(mirror)" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | "$DOCKER" import --change 'CMD ["bash"]' - "$BASE" >/dev/null
  rm -rf "$work/rootfs"
fi

if ! have "$GO_BASE_IMAGE"; then
  log "Go $GO_TOOLCHAIN toolchain from the Go module proxy"
  gomod="golang.org/toolchain@v0.0.1-go$GO_TOOLCHAIN.linux-amd64"
  goroot="$(cd "$work" && GOWORK=off GOFLAGS= go mod download -json "$gomod" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$goroot/bin" ]] || { log "could not download $gomod"; exit 1; }
  # A module zip keeps no execute bits: give them back to the commands, as the go command does
  # when it switches to a downloaded toolchain.
  cp -r "$goroot" "$work/go" && chmod -R u+w "$work/go" && chmod a+x "$work/go"/bin/* "$work/go"/pkg/tool/*/*
  echo "$GO_DOCKERFILE" | "$DOCKER" build -q -t "$GO_BASE_IMAGE" -f - "$work/go" >/dev/null
  rm -rf "$work/go"
fi
if ! have "$GO_IMAGE"; then
  log "Go build image with the host's CA bundle"
  mkdir -p "$work/ca" && cp "$HOST_CA_BUNDLE" "$work/ca/"
  echo "$GO_CA_DOCKERFILE" | "$DOCKER" build -q -t "$GO_IMAGE" -f - "$work/ca" >/dev/null
fi

if ! have "$RUNTIME_IMAGE"; then
  log "runtime image (nonroot 65532, CA certificates, tzdata)"
  echo "$RUNTIME_DOCKERFILE" | "$DOCKER" build -q -t "$RUNTIME_IMAGE" - >/dev/null
fi

if ! have "$ETCD_IMAGE"; then
  log "etcd $ETCD_VERSION and etcdctl from their Go modules (a minute or two to compile)"
  mkdir -p "$work/etcd"
  # GOWORK=off: the module is not in go.work (see its go.mod).
  (cd "$here/etcd" && GOWORK=off GOFLAGS= CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/etcd/" ./cmd/etcd ./cmd/etcdctl)
  echo "$ETCD_DOCKERFILE" | "$DOCKER" build -q -t "$ETCD_IMAGE" -f - "$work/etcd" >/dev/null
fi

if ! have "$POSTGRES_IMAGE"; then
  log "postgres $PG_MAJOR from Debian's packages"
  cp "$here/postgres/docker-entrypoint.sh" "$work/"
  # Host network for apt: the build reaches the mirror the way the host does.
  echo "$POSTGRES_DOCKERFILE" | "$DOCKER" build -q --network host -t "$POSTGRES_IMAGE" -f - "$work" >/dev/null
fi

echo "export SMH_GO_IMAGE=$GO_IMAGE"
echo "export SMH_RUNTIME_IMAGE=$RUNTIME_IMAGE"
echo "export SMH_ETCD_IMAGE=$ETCD_IMAGE"
echo "export SMH_POSTGRES_IMAGE=$POSTGRES_IMAGE"
