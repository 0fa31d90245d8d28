#!/usr/bin/env bash
# Runs the storeflight release binary for this runner, for action.yml.
#
# It picks the asset for RUNNER_OS/RUNNER_ARCH, downloads it from the GitHub
# release of the pinned version, checks its SHA-256 against checksums.txt
# beside this script (committed in the same tagged commit as action.yml) and
# only then runs it. A missing entry or a different sum stops the run: the
# sums in the action's own commit are what make `uses: ...@<sha>` mean one
# exact binary. Written for bash 3.2 (macOS) and Git Bash (Windows) too.
#
# Exit codes of its own, before the binary runs: 2 for a platform, version
# or checksum entry it cannot serve (configuration; a runner without
# sha256sum or shasum too, found before anything is downloaded), 1 for a
# failed download or a checksum mismatch. After that, the binary's own exit
# code.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=${STOREFLIGHT_ACTION_REPOSITORY:-storeflight/storeflight}
releases=${STOREFLIGHT_ACTION_RELEASES_URL:-https://github.com/$repo/releases/download}

fail() { # fail CODE MESSAGE
  echo "::error title=storeflight action::$2" >&2
  exit "$1"
}

to_posix() { # Windows runners hand out paths like D:\a\_temp
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

# Which release.
version=${STOREFLIGHT_ACTION_VERSION:-}
if [ -z "$version" ]; then
  [ -f "$here/version" ] || fail 2 "action/version is missing: use a released tag of the action (like @v1) or set the version input"
  version=$(tr -d ' \r\n\t' < "$here/version")
fi
if ! printf '%s\n' "$version" | grep -Eq '^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$'; then
  fail 2 "version '$version' is not a release version like v1.2.3: this commit of the action is not a release; use a released tag (like @v1) or a release's full commit SHA"
fi
case "$version" in v*) ;; *) version="v$version" ;; esac

# Which asset.
case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  Windows) os=windows ;;
  macOS) os=darwin ;;
  *) fail 2 "unsupported RUNNER_OS '${RUNNER_OS:-}': storeflight is released for Linux, Windows and macOS" ;;
esac
case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) fail 2 "unsupported RUNNER_ARCH '${RUNNER_ARCH:-}': storeflight is released for X64 and ARM64" ;;
esac
asset="storeflight_${os}_${arch}"
[ "$os" = windows ] && asset="$asset.exe"

# The sum committed with the action. Lines are "<sha256>  <version>/<asset>";
# carriage returns are dropped in case a checkout converted line endings.
want=$(tr -d '\r' < "$here/checksums.txt" 2>/dev/null | awk -v key="$version/$asset" '$1 !~ /^#/ && $2 == key { print tolower($1); exit }')
[ -n "$want" ] || fail 2 "no SHA-256 for $version/$asset in action/checksums.txt of this action's commit: use the version committed with it (leave the version input empty) or a tag of the action released with or after $version"
printf '%s\n' "$want" | grep -Eq '^[0-9a-f]{64}$' || fail 2 "action/checksums.txt has a malformed sum for $version/$asset"

# The file goes in on stdin: given a name holding a backslash (a Windows
# path), GNU sha256sum escapes it and prefixes the sum with '\'. Binary
# mode, for Git Bash.
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum -b < "$1" | awk '{ print tolower($1) }'; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 -b < "$1" | awk '{ print tolower($1) }'; }
else
  fail 2 "neither sha256sum nor shasum is on PATH: cannot verify the storeflight binary, so it was not downloaded; install coreutils (or perl's shasum) on the runner"
fi

dir="$(to_posix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/storeflight/$version"
bin="$dir/$asset"
mkdir -p "$dir"

# A second use of the action in the same job reuses the download, checked again.
if [ ! -f "$bin" ] || [ "$(sha256 "$bin")" != "$want" ]; then
  url="$releases/$version/$asset"
  part="$bin.part.$$"
  rm -f "$part"
  curlargs=(--fail --silent --show-error --location --proto '=https,http'
    --proto-redir '=https' --retry 5 --retry-connrefused --connect-timeout 30 --max-time 600
    --output "$part" "$url")
  # The job's token raises the rate limit; it goes only to the runner's own
  # GitHub host, through curl's config on stdin so it is never in argv, and
  # curl drops it on the redirect to the asset storage host.
  server=${GITHUB_SERVER_URL:-https://github.com}
  token=${STOREFLIGHT_ACTION_TOKEN:-}
  ok=
  if [ -n "$token" ] && [ "${url#"$server"/}" != "$url" ]; then
    printf 'header = "Authorization: Bearer %s"\n' "$token" | curl --config - "${curlargs[@]}" && ok=1
    [ -n "$ok" ] || echo "storeflight action: download with the job's token failed; trying without it" >&2
  fi
  if [ -z "$ok" ]; then
    curl "${curlargs[@]}" || { rm -f "$part"; fail 1 "could not download $url (after retries): does release $version exist?"; }
  fi
  got=$(sha256 "$part")
  if [ "$got" != "$want" ]; then
    rm -f "$part"
    fail 1 "SHA-256 mismatch for $url: got $got, action/checksums.txt says $want; refusing to run it"
  fi
  chmod +x "$part"
  mv -f "$part" "$bin"
fi

echo "storeflight action: running $version/$asset (sha256 $want)"
# The binary needs none of these; the token especially stays out of its env.
unset STOREFLIGHT_ACTION_TOKEN STOREFLIGHT_ACTION_VERSION STOREFLIGHT_ACTION_REPOSITORY STOREFLIGHT_ACTION_RELEASES_URL
exec "$bin" "$@"
