#!/usr/bin/env bash
# The container check: both release images (Dockerfile.release, minimal and
# shell flavours) built with podman or Docker from binaries built here, then
# each run against cmd/storefake (on this machine's loopback, with TLS) the
# way other CI systems run them:
#   - minimal, as a `docker run` step or Azure Pipelines would: the binary is
#     the entrypoint, inputs come as STOREFLIGHT_* variables, the workspace
#     is a volume, outputs are ##vso[task.setvariable] lines (TF_BUILD=True),
#     the fakes' CA is trusted through extra-root-certs; a bad input exits 2
#     through the container; the image holds no shell;
#   - shell, as GitLab's docker executor runs an `image:` job: no
#     entrypoint, GitLab's shell detection feeding the job script to sh on
#     stdin, a federated token in $AZURE_FEDERATED_TOKEN (id_tokens), the CA
#     trusted through SSL_CERT_FILE, and the dotenv report storeflight.env
#     left in the project directory.
#
#   bash .ci/container-check.sh                 # podman, else docker
#   CONTAINER_ENGINE=docker bash .ci/container-check.sh
#
# Base images: the real ones when they can be pulled; otherwise (offline, or
# no route to the registries) local stand-ins built from this machine's
# files, passed as the Dockerfile's STATIC_BASE and SHELL_BASE arguments: a
# scratch image with a CA bundle, /etc/passwd and /tmp for distroless, and
# the same plus a static busybox (Debian: busybox-static) for Debian slim.
# The stand-ins check the Dockerfile and the binary, not the real bases.
#
# Where plain `podman run` cannot start a container (a sandbox with hybrid
# cgroups and no CAP_SYS_RESOURCE), it retries with runc, cgroupfs and
# ulimits at or below the current ones, and says so. A few minutes at most;
# every container is removed (--rm), images are tagged storeflight-check/*,
# processes it starts are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then engine=podman; elif command -v docker >/dev/null; then engine=docker; fi
fi
[ -n "$engine" ] || { echo "container-check: neither podman nor docker is installed (Debian: apt-get install podman runc)" >&2; exit 1; }

work=$(mktemp -d /tmp/storeflight-containers.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
ok() { echo "  ok: $*"; }
bad() { echo "  FAILED: $*"; failures=$((failures + 1)); }

ce=("$engine")   # the engine, with any global flags the sandbox needs
runflags=()      # flags every `run` needs here
tag=localhost/storeflight-check
arch=$(go env GOARCH)

echo "== build ($engine, linux/$arch)"
ctx=$work/context
mkdir -p "$ctx"
CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "-s -w -X github.com/storeflight/storeflight/internal/version.Version=0.0.0-check" \
  -o "$ctx/storeflight_linux_$arch" .
go build -o "$work/storefake" ./cmd/storefake

# standin NAME WITH_SHELL: a base image from local files.
standin() {
  local name=$1 shell=$2 root=$work/$1/rootfs
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  if [ "$shell" = yes ]; then
    local bb
    bb=$(command -v busybox) || { echo "container-check: a static busybox is needed for the shell stand-in (Debian: apt-get install busybox-static)" >&2; exit 1; }
    mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/local/bin"
    cp "$bb" "$root/bin/busybox"
    for applet in $("$bb" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  fi
  printf 'FROM scratch\nCOPY rootfs/ /\n' >"$work/$name/Containerfile"
  "${ce[@]}" build -q --pull=never -t "$tag/$name" -f "$work/$name/Containerfile" "$work/$name" >/dev/null
  echo "$tag/$name"
}

# base REAL NAME WITH_SHELL: REAL if it is here or can be pulled, else a stand-in.
base() {
  if "${ce[@]}" image inspect "$1" >/dev/null 2>&1 || timeout 60 "${ce[@]}" pull -q "$1" >/dev/null 2>&1; then
    echo "$1"
  else
    echo "cannot pull $1: using a local stand-in" >&2
    standin "$2" "$3"
  fi
}
static_base=$(base gcr.io/distroless/static-debian13 static-base no)
shell_base=$(base docker.io/library/debian:trixie-slim shell-base yes)

for target in minimal shell; do
  # TARGETARCH as buildx sets it; older podman does not.
  "${ce[@]}" build -q --pull=never -f Dockerfile.release --target "$target" --build-arg TARGETARCH="$arch" \
    --build-arg STATIC_BASE="$static_base" --build-arg SHELL_BASE="$shell_base" --build-arg VERSION=0.0.0-check \
    -t "$tag/$target" "$ctx" >/dev/null
  echo "built $tag/$target from $static_base and $shell_base"
done

echo "== can containers run here?"
if "${ce[@]}" run --rm "$tag/minimal" --version >"$work/probe.log" 2>&1; then
  echo "yes, with plain $engine run"
elif [ "$engine" = podman ] && command -v runc >/dev/null \
  && podman --runtime runc --cgroup-manager cgroupfs run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$tag/minimal" --version >"$work/probe2.log" 2>&1; then
  echo "plain podman run failed ($(tail -n 1 "$work/probe.log")); runc, cgroupfs and lowered ulimits work"
  ce=(podman --runtime runc --cgroup-manager cgroupfs)
  runflags=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
else
  cat "$work/probe.log" "$work/probe2.log" 2>/dev/null >&2
  echo "container-check: $engine cannot start a container on this machine" >&2
  exit 77 # not a failure of the images: .ci/run says the check was skipped
fi

# The workspace a CI system mounts: two packages in nested folders.
ws=$work/workspace
python3 - "$ws/out" <<'EOF'
import os, sys, zipfile
root = sys.argv[1]
for arch in ("x64", "arm64"):
    d = os.path.join(root, arch)
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(d, f"Contoso.Notes_1.1.0.0_{arch}.msix"), "w") as z:
        z.writestr("AppxManifest.xml",
            '<?xml version="1.0" encoding="utf-8"?><Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">'
            f'<Identity Name="Contoso.Notes" Publisher="CN=Contoso" Version="1.1.0.0" ProcessorArchitecture="{arch}"/></Package>')
EOF
chmod -R a+rwX "$ws"

# envval VAR NAME: VAR's value in storefake NAME's environment file.
envval() { sed -n "s/^$1=//p" "$work/$2.env"; }

# startfake NAME: a storefake process; $common becomes the `run` flags
# that point a run at it (the fakes' CA mounted at /certs/storefake-ca.pem)
# and $fake_token the file holding its federated token.
startfake() {
  "$work/storefake" -tls -budget 0 -blob-dir "$work/$1-blobs" -env-file "$work/$1.env" >/dev/null 2>"$work/$1.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$work/$1.env" ] && break; sleep 0.1; done
  [ -s "$work/$1.env" ] || { cat "$work/$1.log" >&2; echo "storefake did not start" >&2; exit 1; }
  fake_token=$(envval AZURE_FEDERATED_TOKEN_FILE "$1")
  common=(-e STOREFLIGHT_API_URL="$(envval STOREFLIGHT_API_URL "$1")" -e STOREFLIGHT_AUTHORITY_HOST="$(envval STOREFLIGHT_AUTHORITY_HOST "$1")"
    -e AZURE_TENANT_ID="$(envval AZURE_TENANT_ID "$1")" -e AZURE_CLIENT_ID="$(envval AZURE_CLIENT_ID "$1")"
    -e STOREFLIGHT_APPLICATION_ID=9NBLGGH4R315 -e "STOREFLIGHT_FLIGHT_NAME=Beta testers"
    -v "$(envval STOREFLIGHT_EXTRA_ROOT_CERTS "$1"):/certs/storefake-ca.pem:ro")
}

# crun LABEL ARGS...: `run` with the flags this machine needs; sets $code,
# output in $work/LABEL.log.
crun() {
  local label=$1
  shift
  code=0
  timeout 180 "${ce[@]}" run --rm --network host "${runflags[@]}" "$@" >"$work/$label.log" 2>&1 || code=$?
}
expect() {
  if [ "$code" -eq "$2" ]; then ok "$1: exit $code"; else bad "$1: exit $code, want $2"; sed 's/^/    | /' "$work/$1.log" | tail -n 30; fi
}
has() { if grep -qE -- "$2" "$work/$1.log"; then ok "$1: says $2"; else bad "$1: does not say $2"; fi; }

echo "== minimal, as a docker run step in Azure Pipelines"
startfake azure
crun minimal-version "$tag/minimal" --version
expect minimal-version 0
has minimal-version "storeflight 0.0.0-check"
crun minimal-release "${common[@]}" -v "$ws:/work" -w /work -v "$fake_token:/secrets/token:ro" \
  -e TF_BUILD=True -e STOREFLIGHT_AUTH=federated-token-file -e AZURE_FEDERATED_TOKEN_FILE=/secrets/token \
  -e STOREFLIGHT_EXTRA_ROOT_CERTS=/certs/storefake-ca.pem \
  "$tag/minimal" --packages 'out/**/*.msix' --rollout-percentage 10 --wait-for committed
expect minimal-release 0
has minimal-release '##vso\[task\.setvariable variable=STOREFLIGHT_OUT_SUBMISSION_ID;isoutput=true\][0-9]+'
has minimal-release 'Contoso.Notes_1.1.0.0_arm64.msix'
crun minimal-badinput "${common[@]}" -e TF_BUILD=True "$tag/minimal" --rollout-percentage 150
expect minimal-badinput 2
has minimal-badinput 'rollout-percentage'
crun minimal-noshell --entrypoint /bin/sh "$tag/minimal" -c true
if [ "$code" -ne 0 ]; then ok "minimal: holds no /bin/sh (exit $code)"; else bad "minimal: has a shell"; fi

echo "== shell, as GitLab's docker executor runs an image: job"
startfake gitlab
project=/builds/contoso/notes
# What GitLab Runner runs as the container's command: find a shell, then
# the job script arrives on stdin.
detect='if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash "$@"; elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash "$@"; elif [ -x /bin/bash ]; then exec /bin/bash "$@"; elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh "$@"; elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh "$@"; elif [ -x /bin/sh ]; then exec /bin/sh "$@"; else echo shell not found; exit 1; fi'
printf 'set -e\ncd %s\nstoreflight\necho "job done"\n' "$project" >"$work/gitlab-job.sh"
crun gitlab-release -i "${common[@]}" -v "$ws:$project" \
  -e GITLAB_CI=true -e CI=true -e CI_PROJECT_DIR="$project" \
  -e STOREFLIGHT_AUTH=federated-token-file -e AZURE_FEDERATED_TOKEN="$(cat "$fake_token")" \
  -e SSL_CERT_FILE=/certs/storefake-ca.pem \
  -e 'STOREFLIGHT_PACKAGES=out/**/*.msix' -e STOREFLIGHT_ROLLOUT_PERCENTAGE=10 -e STOREFLIGHT_WAIT_FOR=committed \
  "$tag/shell" sh -c "$detect" -- <"$work/gitlab-job.sh"
expect gitlab-release 0
has gitlab-release 'job done'
if grep -qE '^STOREFLIGHT_OUT_SUBMISSION_ID=[0-9]+$' "$ws/storeflight.env" 2>/dev/null; then
  ok "gitlab-release: dotenv report storeflight.env in the project: $(grep -E '^STOREFLIGHT_OUT_SUBMISSION_ID=' "$ws/storeflight.env")"
else
  bad "gitlab-release: no submission ID in the project's storeflight.env"
fi

echo "== $failures failure(s), $((SECONDS))s in all"
[ "$failures" -eq 0 ]
