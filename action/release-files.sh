#!/usr/bin/env bash
# Writes action/version and action/checksums.txt for a release commit.
#
#   bash action/release-files.sh v1.2.3 dist/checksums.txt [previous-checksums.txt]
#
# From GoReleaser's checksums.txt it takes the six raw binaries the action
# downloads (storeflight_{linux,windows,darwin}_{amd64,arm64}[.exe]) and
# records them as "<sha256>  v1.2.3/<asset>". Sums of earlier releases, from
# the previous release commit's file, are kept below, so the action's version
# input can still select an earlier binary and have it verified.
set -euo pipefail

tag=${1:?usage: release-files.sh vX.Y.Z dist/checksums.txt [previous-checksums.txt]}
dist=${2:?usage: release-files.sh vX.Y.Z dist/checksums.txt [previous-checksums.txt]}
prev=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

printf '%s\n' "$tag" | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+$' || { echo "release-files: '$tag' is not vX.Y.Z" >&2; exit 2; }

new=$(awk -v tag="$tag" '
  $2 ~ /^storeflight_(linux|windows|darwin)_(amd64|arm64)(\.exe)?$/ {
    if (length($1) != 64 || $1 !~ /^[0-9a-f]+$/) { print "bad sum for " $2 > "/dev/stderr"; exit 1 }
    if (($2 ~ /^storeflight_windows_/) != ($2 ~ /\.exe$/)) next
    print $1 "  " tag "/" $2
  }' "$dist" | sort -k2)
count=$(printf '%s\n' "$new" | grep -c . || true)
if [ "$count" -ne 6 ]; then
  echo "release-files: expected 6 binaries in $dist, found $count:" >&2
  printf '%s\n' "$new" >&2
  exit 1
fi

old=
if [ -n "$prev" ] && [ -f "$prev" ]; then
  old=$(tr -d '\r' < "$prev" | awk -v tag="$tag" '$1 !~ /^#/ && NF == 2 && index($2, tag "/") != 1')
fi

{
  cat <<'HEADER'
# SHA-256 sums of the storeflight release binaries this commit of the action
# may run: "<sha256>  <version>/<asset>". Written by action/release-files.sh
# in the release workflow (docs/RELEASING.md); newest release first.
HEADER
  printf '%s\n' "$new"
  if [ -n "$old" ]; then printf '%s\n' "$old"; fi
} > "$here/checksums.txt"
printf '%s\n' "$tag" > "$here/version"
echo "release-files: $tag with $count binaries$( [ -n "$old" ] && printf ', plus %s earlier sums' "$(printf '%s\n' "$old" | grep -c .)")"
