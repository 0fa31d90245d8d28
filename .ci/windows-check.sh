#!/usr/bin/env bash
# The Windows check: the windows/amd64 storeflight binary, run under Wine
# against cmd/storefake (built for Linux, on loopback, with TLS) the way a
# Windows runner runs it:
#   - Windows paths: a drive letter (Z:, Wine's view of /), backslashes, a
#     mixed-case glob with ** (out\**\*.MSIX finding .msix files);
#   - the fakes trusted through extra-root-certs, since Go on Windows
#     ignores SSL_CERT_FILE (an untrusted run must name the x509 problem);
#   - a release, its re-run (the same submission, never a second one), a
#     wait that times out (exit 3) and its re-run, bad inputs (exit 2,
#     nothing signed in), and output-file at a Windows path.
#
#   bash .ci/windows-check.sh
#
# Needs go, python3, Wine (Debian 12: apt-get install wine wine64, Wine 8.0)
# and MinGW (gcc-mingw-w64-x86-64-win32). Go 1.26 binaries load
# bcryptprimitives.dll!ProcessPrng at start, which Wine 8.0 lacks: a shim
# built here from .ci/wine/processprng.c supplies it in a throwaway Wine
# prefix. About a minute; every process it starts is stopped by PID (and the
# prefix's own wineserver with wineserver -k), every file removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in go python3 wine wineserver x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || { echo "windows-check: $tool is missing (Debian: apt-get install wine wine64 gcc-mingw-w64-x86-64-win32 python3)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/storeflight-wine.XXXXXX)
pids=()
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko install prompts, no display.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -d "$WINEPREFIX" ]; then wineserver -k 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
ok() { echo "  ok: $*"; }
bad() { echo "  FAILED: $*"; failures=$((failures + 1)); }

# winpath PATH: the Windows form of a Unix path, as Wine's Z: drive shows it.
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }

echo "== build"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -o "$work/storeflight.exe" .
go build -o "$work/storefake" ./cmd/storefake
x86_64-w64-mingw32-gcc -shared -O2 -s -o "$work/bcryptprimitives.dll" .ci/wine/processprng.c -ladvapi32
exe=$(winpath "$work/storeflight.exe")

echo "== Wine prefix ($(wine --version 2>/dev/null))"
start=$SECONDS
timeout 300 wine wineboot --init >"$work/wineboot.log" 2>&1 || { cat "$work/wineboot.log"; echo "wineboot --init failed" >&2; exit 1; }
timeout 120 wineserver -w || true
# Go's runtime loads bcryptprimitives.dll from system32 and fails at start
# without its ProcessPrng. Wine 8.0 has no such DLL; should a later Wine
# have one without the function, the shim is preferred to its builtin.
if ! timeout 120 wine "$exe" --version >"$work/start.log" 2>&1; then
  if ! grep -qiE 'bcryptprimitives|ProcessPrng' "$work/start.log"; then
    cat "$work/start.log" >&2
    echo "storeflight.exe does not start under Wine, for another reason than ProcessPrng" >&2
    exit 1
  fi
  cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
  export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n,b"
  echo "this Wine lacks ProcessPrng ($(grep -m1 -iE 'bcryptprimitives|ProcessPrng' "$work/start.log")): installed the shim as system32/bcryptprimitives.dll"
else
  echo "this Wine runs Go binaries as it is: no shim"
fi
echo "prefix ready in $((SECONDS - start))s"

# The packages: two .msix files (lower-case extension, as packaging tools
# write them) in nested folders, and a file the glob must leave out.
python3 - "$work/out" <<'EOF'
import os, sys, zipfile
root = sys.argv[1]
for arch in ("x64", "arm64"):
    d = os.path.join(root, "Release", arch)
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(d, f"Contoso.Notes_1.1.0.0_{arch}.msix"), "w") as z:
        z.writestr("AppxManifest.xml",
            '<?xml version="1.0" encoding="utf-8"?><Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">'
            f'<Identity Name="Contoso.Notes" Publisher="CN=Contoso" Version="1.1.0.0" ProcessorArchitecture="{arch}"/></Package>')
open(os.path.join(root, "Release", "x64", "build.log"), "w").write("not a package\n")
EOF
mkdir -p "$work/outputs"
glob="$(winpath "$work/out")\\**\\*.MSIX"

# startfake NAME ARGS...: a storefake process; its environment goes to
# $work/NAME.env.
startfake() {
  local name=$1
  shift
  "$work/storefake" -tls -budget 0 -blob-dir "$work/$name-blobs" -env-file "$work/$name.env" "$@" >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$work/$name.env" ] && return 0; sleep 0.1; done
  echo "storefake $name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# sfenv NAME: the fake's environment as VAR=value lines, paths in Windows
# form. Nothing else of this machine's environment reaches the binary: a
# CI job's GITHUB_OUTPUT or SSL_CERT_FILE must not.
sfenv() {
  local line k v
  while IFS= read -r line; do
    k=${line%%=*}
    v=${line#*=}
    v=${v#\'}
    v=${v%\'}
    case $k in AZURE_FEDERATED_TOKEN_FILE | STOREFLIGHT_EXTRA_ROOT_CERTS) v=$(winpath "$v") ;; esac
    printf '%s=%s\n' "$k" "$v"
  done <"$work/$1.env"
}

# run LABEL FAKE [VAR=value ...] -- ARGS...: storeflight.exe under Wine with
# the fake's environment plus the variables given; sets $code and leaves
# $work/LABEL.log (stdout and stderr).
run() {
  local label=$1 fake=$2
  shift 2
  local extra=()
  while [ "$1" != -- ]; do extra+=("$1"); shift; done
  shift
  local envs=()
  mapfile -t envs < <(sfenv "$fake")
  code=0
  env -i HOME="$HOME" USER="${USER:-root}" PATH="$PATH" LANG=C.UTF-8 \
    WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="$WINEDLLOVERRIDES" \
    "${envs[@]}" "${extra[@]}" timeout 120 wine "$exe" "$@" >"$work/$label.log" 2>&1 || code=$?
}

# expect LABEL CODE: checks the exit code of the last run.
expect() {
  if [ "$code" -eq "$2" ]; then ok "$1: exit $code"; else bad "$1: exit $code, want $2"; sed 's/^/    | /' "$work/$1.log" | tail -n 30; fi
}

# has LABEL TEXT / hasnot LABEL TEXT: the run's log holds TEXT (or not).
has() { if grep -qF -- "$2" "$work/$1.log"; then ok "$1: says $2"; else bad "$1: does not say $2"; fi; }
hasnot() { if grep -qF -- "$2" "$work/$1.log"; then bad "$1: says $2"; else ok "$1: does not say $2"; fi; }

# jsonfield FILE KEY: a value from an output-file.
jsonfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null || true; }

echo "== the binary starts"
startfake fast
code=0
timeout 120 wine "$exe" --version >"$work/version.log" 2>&1 || code=$?
expect version 0
has version "storeflight"

echo "== release: Windows paths, a mixed-case ** glob, output-file"
outfile=$(winpath "$work/outputs/release.json")
run release fast -- --packages "$glob" --rollout-percentage 10 --wait-for committed --poll-interval 1s --output-file "$outfile"
expect release 0
has release "Contoso.Notes_1.1.0.0_x64.msix"
has release "Contoso.Notes_1.1.0.0_arm64.msix"
hasnot release "build.log"
has release "created submission"
sub=$(jsonfield "$work/outputs/release.json" submission-id)
if [[ "$sub" =~ ^[0-9]+$ ]]; then ok "release: output-file at $outfile has submission-id $sub"; else bad "release: output-file at $outfile has no submission-id"; fi

echo "== re-run of the release, waiting for publication"
run rerun fast -- --packages "$glob" --rollout-percentage 10 --wait-for published --poll-interval 1s --output-file "$outfile"
expect rerun 0
hasnot rerun "created submission"
got=$(jsonfield "$work/outputs/release.json" submission-id)
status=$(jsonfield "$work/outputs/release.json" submission-status)
if [ "$got" = "$sub" ] && [ "$status" = Published ]; then ok "rerun: the same submission $got, Published"; else bad "rerun: submission $got ($status), want $sub (Published)"; fi

echo "== bad inputs"
missing="$(winpath "$work/out")\\**\\*.appx"
run badinput fast -- --packages "$missing" --rollout-percentage 150 --wait-for soon --flight-id not-a-guid
expect badinput 2
has badinput "rollout-percentage"
has badinput "wait-for"
has badinput "flight-id"
# The pattern as written: single backslashes.
has badinput "\"$missing\" matches no file"
hasnot badinput "sign-in:"

echo "== an untrusted certificate (SSL_CERT_FILE, which Windows ignores, instead of extra-root-certs)"
ca=$(sed -n 's/^STOREFLIGHT_EXTRA_ROOT_CERTS=//p' "$work/fast.env")
run untrusted fast STOREFLIGHT_EXTRA_ROOT_CERTS= SSL_CERT_FILE="$(winpath "$ca")" -- --rollout-percentage 10
expect untrusted 1
has untrusted "x509:"
has untrusted "extra-root-certs"

echo "== a wait that times out, and its re-run"
startfake slow -certification 1h
timeoutfile=$(winpath "$work/outputs/timeout.json")
run timeout slow -- --packages "$glob" --wait-for published --poll-interval 1s --timeout 4s --output-file "$timeoutfile"
expect timeout 3
sub=$(jsonfield "$work/outputs/timeout.json" submission-id)
status=$(jsonfield "$work/outputs/timeout.json" submission-status)
if [[ "$sub" =~ ^[0-9]+$ ]] && [ "$status" = Certification ]; then ok "timeout: outputs written on exit 3: submission $sub in $status"; else bad "timeout: output-file has submission '$sub' in '$status', want one in Certification"; fi
run timeout-rerun slow -- --packages "$glob" --wait-for published --poll-interval 1s --timeout 3s --output-file "$timeoutfile"
expect timeout-rerun 3
hasnot timeout-rerun "created submission"
got=$(jsonfield "$work/outputs/timeout.json" submission-id)
if [ "$got" = "$sub" ]; then ok "timeout-rerun: waits on the same submission $got"; else bad "timeout-rerun: submission $got, want $sub"; fi

echo "== $failures failure(s), $((SECONDS))s in all"
[ "$failures" -eq 0 ]
