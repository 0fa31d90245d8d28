# storeflight images built from source, for local use and other CI systems.
# One file, two targets, so both flavours carry the same binary from one build:
#
#   docker build -t storeflight .                       # minimal (default, last stage)
#   docker build -t storeflight:shell --target shell .  # with a shell, no entrypoint
#   docker run --rm storeflight --simulate
#
# Releases do not use this file: release.yml copies the binaries GoReleaser
# built (and whose sums the action commits) into Dockerfile.release, so the
# image and the action run byte-identical binaries.
#
# No "# syntax=" line: it would make BuildKit pull the Dockerfile frontend
# from Docker Hub before the first stage, which fails behind a registry
# mirror or in an air gap. RUN --mount, COPY --chmod and FROM --platform are
# in the frontend built into Docker 23 and later, and in podman and buildah.

ARG GO_VERSION=1.26
# The base images are arguments, so that a registry mirror can take their
# place (--build-arg SHELL_BASE=mirror.example.com/library/debian:trixie-slim).
ARG GO_IMAGE=golang:${GO_VERSION}
ARG SHELL_BASE=debian:trixie-slim
ARG STATIC_BASE=gcr.io/distroless/static-debian13

# The builder runs on the build machine's platform and cross-compiles, so a
# multi-platform build (--platform linux/amd64,linux/arm64) needs no emulation.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/storeflight/storeflight/internal/version.Version=${VERSION}" \
      -o /out/storeflight .

# shell: for GitLab's `image:` and Azure Pipelines container jobs, which run
# their own shell scripts inside the image and so need a shell and no
# entrypoint. Debian rather than Alpine because Azure Pipelines container
# jobs need glibc (the agent runs its Node.js inside the container) and bash.
# Debian slim has no CA bundle, so the builder's is copied in.
FROM ${SHELL_BASE} AS shell
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/storeflight /usr/local/bin/storeflight
LABEL org.opencontainers.image.title="storeflight (shell)" \
      org.opencontainers.image.description="Publish Windows apps to the Microsoft Store from CI; binary on PATH, no entrypoint" \
      org.opencontainers.image.source="https://github.com/storeflight/storeflight"
# No USER: CI systems run jobs in this image as its default user and expect
# it to write to the workspace they mount, whose owner they choose; Azure
# Pipelines even adds its own user, which needs root.

# minimal: the binary as entrypoint, for `docker run` steps. distroless/static
# carries a CA bundle, /etc/passwd and time zone data, and nothing else.
FROM ${STATIC_BASE} AS minimal
COPY --from=build /out/storeflight /usr/local/bin/storeflight
LABEL org.opencontainers.image.title="storeflight" \
      org.opencontainers.image.description="Publish Windows apps to the Microsoft Store from CI" \
      org.opencontainers.image.source="https://github.com/storeflight/storeflight"
# No USER line: GitHub's Docker actions and many CI runners expect the image's
# default user, and storeflight writes outputs and summaries into workspace
# files ($GITHUB_OUTPUT, output-file) that the runner mounts owned by that
# user; a non-root user would fail to write them.
ENTRYPOINT ["/usr/local/bin/storeflight"]
