# syntax=docker/dockerfile:1
# Osprey's container image: a static binary on distroless, running as non-root.
#
#   docker build -t ghcr.io/ospreyhq/osprey:dev .
#
# Without Docker, `go run ./cmd/osprey-image` builds the same layout (binary at /osprey, user 65532, CA
# certificates, writable /tmp) reproducibly into an OCI archive.

# 1.26.10: the first release with the standard-library fixes govulncheck reports for 1.26.8 (.ci/run).
ARG GO_VERSION=1.26.10

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# Static (no cgo: modernc.org/sqlite is pure Go), no local paths, no build id: the same commit gives the same binary.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -buildid=" -o /out/osprey ./cmd/osprey

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/osprey /osprey
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
# 8080: API, 8081: management (/health, /metrics).
EXPOSE 8080 8081
ENTRYPOINT ["/osprey"]
