#!/usr/bin/env bash
# Reproduces BENCHMARKS.md. Usage:
#   bash bench/run.sh               # full: 256 MiB and 2 GiB, 3 rounds, block/concurrency table
#   bash bench/run.sh 64M 1G        # other sizes (K, M, G suffixes)
#   bash bench/run.sh --smoke       # 16 MiB, 1 round, no table: a smoke test for .ci/run (< 60 s)
#   bash bench/run.sh --upload-only 256M   # section 1 against the sink only (no Azurite, binary, table, 2, 3)
#   ZIPUP_BASELINE=/tmp/old/zipup bash bench/run.sh --upload-only 256M
#                                   # also run an older build of bench/zipup in each round (old vs new vs curl)
# Needs go, curl and /usr/bin/time (apt-get install -y time); hyperfine and
# Azurite are used when present (AZURITE_BIN, else /tmp/azurite or .ci/run's
# cache). Everything runs on 127.0.0.1; every process started here is
# stopped by PID and every file is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
uponly=false
baseline=${ZIPUP_BASELINE:-}
rounds=${ROUNDS:-3}
sizes=()
for a in "$@"; do
  case $a in
    --smoke) smoke=true ;;
    --upload-only) uponly=true ;;
    *) sizes+=("$a") ;;
  esac
done
if $smoke; then rounds=1; sizes=(16M); fi
[ ${#sizes[@]} -eq 0 ] && sizes=(256M 2G)

bytes() { numfmt --from=iec "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# rss FILE: peak RSS in MiB from /usr/bin/time -v output.
rss() { awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }

work=$(mktemp -d /tmp/storeflight-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

echo "== machine"
echo "nproc: $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
free -h | sed -n 2p
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
echo "go: $(go version)"

echo "== build"
bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/zipup" ./bench/zipup
go build -o "$bin/blobsink" ./bench/blobsink
go build -o "$bin/storefake" ./cmd/storefake
go build -trimpath -ldflags "-s -w" -o "$bin/storeflight" .
go build -o "$bin/storeflight-unstripped" .

# waitport HOST:PORT
waitport() { for _ in $(seq 1 100); do (echo >"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin/blobsink" -log "$work/sink.log" >"$work/sink.url" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/sink.url" ] && break; sleep 0.1; done
sink=$(cat "$work/sink.url")

azbin=${AZURITE_BIN:-}
for c in /tmp/azurite/node_modules/.bin/azurite-blob "$HOME/.cache/storeflight-azurite/node_modules/.bin/azurite-blob"; do
  [ -z "$azbin" ] && [ -x "$c" ] && azbin=$c
done
azurl=
if [ -n "$azbin" ] && ! $uponly; then
  azport=$(freeport)
  mkdir -p "$work/azurite"
  "$azbin" --blobHost 127.0.0.1 --blobPort "$azport" --loose --skipApiVersionCheck \
    --location "$work/azurite" --disableTelemetry --silent &
  pids+=($!)
  waitport "127.0.0.1:$azport" && azurl="http://127.0.0.1:$azport/devstoreaccount1"
fi

echo "== 1. upload (MB = 10^6 bytes; medians of $rounds rounds, storeflight and curl interleaved)"
for size in "${sizes[@]}"; do
  n=$(bytes "$size")
  pk=$work/pkgs-$size
  "$bin/zipup" gen -dir "$pk" -size "$n"
  "$bin/zipup" zip -dir "$pk" -out "$work/pre.zip"
  zbytes=$(stat -c %s "$work/pre.zip")
  : >"$work/up.txt"; : >"$work/curl.txt"; : >"$work/rss.txt"; : >"$work/base.txt"; : >"$work/base-rss.txt"; : >"$work/cpu.txt"
  for _ in $(seq 1 "$rounds"); do
    : >"$work/sink.log"
    uploads=2
    if [ -n "$baseline" ]; then
      uploads=3
      /usr/bin/time -v -o "$work/time.txt" "$baseline" up -dir "$pk" -url "$sink/ingestion/blob?sv=2019-12-12&sig=x" >"$work/up.out"
      grep -o 'MBps=[0-9.]*' "$work/up.out" | cut -d= -f2 >>"$work/base.txt"
      rss "$work/time.txt" >>"$work/base-rss.txt"; echo >>"$work/base-rss.txt"
      awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print "baseline cpu " u+s}' "$work/time.txt" >>"$work/cpu.txt"
    fi
    /usr/bin/time -v -o "$work/time.txt" "$bin/zipup" up -dir "$pk" -url "$sink/ingestion/blob?sv=2019-12-12&sig=x" >"$work/up.out"
    grep -o 'MBps=[0-9.]*' "$work/up.out" | cut -d= -f2 >>"$work/up.txt"
    rss "$work/time.txt" >>"$work/rss.txt"; echo >>"$work/rss.txt"
    awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print "storeflight cpu " u+s}' "$work/time.txt" >>"$work/cpu.txt"
    curl -sS -T "$work/pre.zip" -H 'x-ms-blob-type: BlockBlob' "$sink/ingestion/blob?sig=x" -o /dev/null \
      -w '%{speed_upload}\n' | awk '{printf "%.1f\n", $1/1e6}' >>"$work/curl.txt"
    # Both uploads delivered every byte of the archive.
    if [ "$(grep -c "^bytes=$zbytes " "$work/sink.log")" != "$uploads" ]; then
      echo "sink did not receive $zbytes bytes $uploads times:"; cat "$work/sink.log"; exit 1
    fi
  done
  up=$(median <"$work/up.txt"); cu=$(median <"$work/curl.txt"); rs=$(sort -g "$work/rss.txt" | tail -1)
  if [ -n "$baseline" ]; then
    bu=$(median <"$work/base.txt")
    echo "size $size, sink: baseline $baseline $bu MB/s [$(tr '\n' ' ' <"$work/base.txt")], ratio to curl $(awk "BEGIN{printf \"%.2f\", $bu/$(median <"$work/curl.txt")}"), peak RSS $(sort -g "$work/base-rss.txt" | tail -1) MiB"
  fi
  for who in baseline storeflight; do
    c=$(awk -v w="$who" '$1 == w {print $3}' "$work/cpu.txt" | median)
    [ -n "$c" ] && echo "size $size, $who CPU (user+sys, median): $c s"
  done
  : >"$work/cpu.txt"
  echo "size $size ($zbytes bytes), sink: storeflight $up MB/s [$(tr '\n' ' ' <"$work/up.txt")], curl -T $cu MB/s [$(tr '\n' ' ' <"$work/curl.txt")], ratio $(awk "BEGIN{printf \"%.2f\", $up/$cu}"), storeflight peak RSS $rs MiB (max of rounds)"

  if $uponly; then
    rm -rf "$work/pre.zip" "$pk"
    continue
  fi
  if [ -n "$azurl" ]; then
    sasurl=$("$bin/zipup" sas -account "$azurl" -container "bench$RANDOM" -blob "s.zip")
    /usr/bin/time -v -o "$work/time.txt" "$bin/zipup" up -dir "$pk" -url "$sasurl" >"$work/up.out"
    "$bin/zipup" verify -url "$sasurl" -sha "$(sha256sum "$work/pre.zip" | cut -d' ' -f1)" >/dev/null
    echo "size $size, Azurite: storeflight $(grep -o 'MBps=[0-9.]*' "$work/up.out" | cut -d= -f2) MB/s, peak RSS $(rss "$work/time.txt") MiB, blob verified (SHA-256 of the prebuilt ZIP)"
  else
    echo "size $size, Azurite: not installed, skipped"
  fi

  # The real binary: rehearsal run against the standalone simulator (its
  # blob endpoint writes to disk and hashes, so this is about RSS, not speed).
  # A fresh simulator per size: the commit's ZIP check reads the blob after
  # the run has ended, and a second run must not meet the first one's
  # submission.
  rm -f "$work/sf.env"
  "$bin/storefake" -budget 0 -blob-dir "$work/storefake-blobs" -env-file "$work/sf.env" >/dev/null &
  sfpid=$!; pids+=("$sfpid")
  for _ in $(seq 1 50); do [ -s "$work/sf.env" ] && break; sleep 0.1; done
  (
    set -a
    # sf.env is written by storefake above.
    # shellcheck source=/dev/null
    . "$work/sf.env"
    set +a
    /usr/bin/time -v -o "$work/time.txt" "$bin/storeflight" --packages "$pk/*.msix" --wait-for none >"$work/sf.out" 2>&1 || { cat "$work/sf.out"; exit 1; }
    echo "size $size, storeflight binary against cmd/storefake (update, upload, commit): wall $(awk -F': ' '/Elapsed/ {print $2}' "$work/time.txt"), peak RSS $(rss "$work/time.txt") MiB"
  )
  kill "$sfpid"; wait "$sfpid" 2>/dev/null || true
  rm -rf "$work/storefake-blobs" "$work/pre.zip" "$pk"
  find /tmp -maxdepth 1 -name 'storeflight*.zip' -newer "$work/sink.url" 2>/dev/null | sed 's/^/temp file left: /'
done

if $uponly; then echo "== done"; exit 0; fi
if ! $smoke; then
  echo "== 1b. block size × blocks in flight (0: adapting), ${sizes[0]}, sink (medians of $rounds)"
  n=$(bytes "${sizes[0]}"); pk=$work/pkgs-table
  "$bin/zipup" gen -dir "$pk" -size "$n"
  for cfg in "1 4" "4 4" "8 2" "8 4" "8 8" "16 4" "16 2" "8 0" "8 0 sha"; do
    read -r blk conc sha <<<"$cfg"
    : >"$work/up.txt"; : >"$work/rss.txt"
    for _ in $(seq 1 "$rounds"); do
      extra=(); [ "$sha" = sha ] && extra=(-sha256)
      /usr/bin/time -v -o "$work/time.txt" "$bin/zipup" up -dir "$pk" -url "$sink/ingestion/blob?sig=x" \
        -block $((blk << 20)) -conc "$conc" "${extra[@]}" >"$work/up.out"
      grep -o 'MBps=[0-9.]*' "$work/up.out" | cut -d= -f2 >>"$work/up.txt"
      rss "$work/time.txt" >>"$work/rss.txt"; echo >>"$work/rss.txt"
    done
    echo "block $blk MiB × $conc${sha:+ +sha256}: $(median <"$work/up.txt") MB/s, peak RSS $(sort -g "$work/rss.txt" | tail -1) MiB"
  done
  rm -rf "$pk"
fi

echo "== 2. API economy (go test, simulator counting requests, fake clock)"
go test -count=1 -v -run 'TestRequestEconomy|TestThreeDayCertification' ./internal/steps/ 2>&1 |
  grep -E 'requests:|^        (GET|POST|PUT|DELETE)|status reads|^(ok|FAIL|---)' | grep -v -- '--- PASS'

echo "== 3. start and run"
echo "binary: $(stat -c %s "$bin/storeflight") bytes stripped (-s -w -trimpath), $(stat -c %s "$bin/storeflight-unstripped") bytes unstripped"
if command -v hyperfine >/dev/null; then
  runs=200; $smoke && runs=20
  hyperfine -N --warmup 5 --runs "$runs" "$bin/storeflight --version" 2>/dev/null | sed -n '2,3p'
else
  t0=$(date +%s%N); for _ in $(seq 1 100); do "$bin/storeflight" --version >/dev/null; done
  echo "--version: $(( ($(date +%s%N) - t0) / 100000 )) µs mean of 100 (loop)"
fi
for _ in $(seq 1 "$rounds"); do
  /usr/bin/time -v -o "$work/time.txt" "$bin/storeflight" --simulate >"$work/sim.out" 2>&1 || { tail "$work/sim.out"; exit 1; }
  grep -q '^finalized=true' "$work/sim.out" || { echo "--simulate did not finish the demo"; exit 1; }
  echo "--simulate demo (three runs, zero real waits): wall $(awk -F': ' '/Elapsed/ {print $2}' "$work/time.txt"), CPU $(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u "+" s}' "$work/time.txt") s (user+sys), peak RSS $(rss "$work/time.txt") MiB"
done
echo "== done"
