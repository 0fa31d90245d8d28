#!/usr/bin/env bash
# The upload over links shaped like a WAN: storeflight (bench/zipup up, the
# real upload code) against AzCopy and curl -T, on the same ZIP, in the same
# run, through Toxiproxy in front of bench/blobsink. Usage:
#   bash bench/wan.sh                 # 256 MiB and 2 GiB, every link, 3 rounds
#   bash bench/wan.sh 64M             # other sizes (K, M, G suffixes)
#   bash bench/wan.sh --smoke         # 16 MiB, two links, 1 round: a smoke test for .ci/run
#   LINKS="10x60 10x60j" ROUNDS=5 bash bench/wan.sh 256M
# A link is "unshaped" (straight to the sink) or RATExLATENCY[j]: RATE MB/s
# per connection from the uploader (Toxiproxy's bandwidth toxic, upstream),
# LATENCY ms on every response (its latency toxic, downstream), and with j
# a jitter of half the latency either way. curl -T (one connection) runs at
# the first size only on shaped links: its figure is the per-connection rate.
#
# It installs what it needs and keeps it in $BENCH_TOOLS (default
# ~/.cache/storeflight-bench): Toxiproxy's server from the Go module proxy,
# AzCopy from npm (@azure-tools/azcopy-linux ships the real binary), and,
# as root, Debian's libsecret-1-0 (AzCopy links to it) and time (GNU time,
# for peak RSS). Throughput is the ZIP's bytes over each process's wall
# time (MB = 10^6 bytes), so it includes AzCopy's start-up. Everything runs
# on 127.0.0.1; every process started here is stopped by PID and the work
# directory is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
rounds=${ROUNDS:-3}
links=${LINKS:-unshaped 40x30 10x60 10x60j}
sizes=()
for a in "$@"; do
  case $a in
    --smoke) smoke=true ;;
    *) sizes+=("$a") ;;
  esac
done
if $smoke; then rounds=1; sizes=(16M); links=${LINKS:-unshaped 40x30}; fi
[ ${#sizes[@]} -eq 0 ] && sizes=(256M 2G)

tools=${BENCH_TOOLS:-$HOME/.cache/storeflight-bench}
toxiproxy_version=v2.12.0
azcopy_version=10.32.2
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# install puts Toxiproxy, AzCopy and the Debian packages in place.
install() {
  local missing=()
  [ -x /usr/bin/time ] || missing+=(time)
  ldconfig -p | grep -q 'libsecret-1\.so\.0' || missing+=(libsecret-1-0)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "wan.sh: needs Debian's ${missing[*]} (apt-get install ${missing[*]}), and is not root" >&2
      exit 1
    fi
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$tools/bin/toxiproxy-$toxiproxy_version" ]; then
    mkdir -p "$tools/bin"
    GOBIN="$tools/gobin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$toxiproxy_version"
    mv "$tools/gobin/server" "$tools/bin/toxiproxy-$toxiproxy_version"
  fi
  azcopy=$tools/azcopy-$azcopy_version/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
  if [ ! -f "$azcopy" ]; then
    npm install --prefix "$tools/azcopy-$azcopy_version" --no-audit --no-fund --loglevel=error \
      "@azure-tools/azcopy-linux@$azcopy_version"
  fi
  chmod +x "$azcopy" # the package ships it without the execute bit
}

bytes() { numfmt --from=iec "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

install
work=$(mktemp -d /tmp/storeflight-wan.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== machine"
echo "nproc: $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
echo "go: $(go version); AzCopy $("$azcopy" --version | awk '{print $3}'); Toxiproxy $toxiproxy_version"

bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/zipup" ./bench/zipup
go build -o "$bin/blobsink" ./bench/blobsink

"$bin/blobsink" -log "$work/sink.log" >"$work/sink.url" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/sink.url" ] && break; sleep 0.1; done
sink=$(cat "$work/sink.url")

api=$(freeport)
proxyport=$(freeport)
"$tools/bin/toxiproxy-$toxiproxy_version" -host 127.0.0.1 -port "$api" >"$work/toxiproxy.log" 2>&1 &
pids+=($!)
waitport "$api"
toxi() { curl -sS --fail-with-body -X "$1" "http://127.0.0.1:$api$2" ${3:+-d "$3"} >/dev/null; }
toxi POST /proxies "{\"name\":\"sink\",\"listen\":\"127.0.0.1:$proxyport\",\"upstream\":\"${sink#http://}\"}"

# shape LINK points $url at the sink through a link of that shape.
shape() {
  toxi DELETE /proxies/sink/toxics/rate 2>/dev/null || true
  toxi DELETE /proxies/sink/toxics/delay 2>/dev/null || true
  if [ "$1" = unshaped ]; then url=$sink; return; fi
  local rate=${1%x*} lat=${1#*x} jitter=0
  case $lat in *j) lat=${lat%j}; jitter=$((lat / 2)) ;; esac
  toxi POST /proxies/sink/toxics "{\"name\":\"rate\",\"type\":\"bandwidth\",\"stream\":\"upstream\",\"attributes\":{\"rate\":$((rate * 1000))}}"
  toxi POST /proxies/sink/toxics "{\"name\":\"delay\",\"type\":\"latency\",\"stream\":\"downstream\",\"attributes\":{\"latency\":$lat,\"jitter\":$jitter}}"
  url=http://127.0.0.1:$proxyport
}

# measure NAME CMD...: runs CMD under GNU time and appends "MB/s RSS-MiB" to $work/NAME.txt.
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
  awk -v b="$zbytes" '{printf "%.1f %.1f\n", b/($1>0?$1:0.01)/1e6, $2/1024}' "$work/time.txt" >>"$work/$name.txt"
}

export AZCOPY_LOG_LOCATION=$work/azcopy AZCOPY_JOB_PLAN_LOCATION=$work/azcopy
echo "== upload over shaped links (MB/s = 10^6 bytes over the process's wall time; medians of $rounds)"
echo "| link | size | storeflight MB/s | AzCopy MB/s | curl -T MB/s | ratio to AzCopy | peak RSS storeflight / AzCopy |"
echo "|---|---|---|---|---|---|---|"
first=${sizes[0]}
for size in "${sizes[@]}"; do
  pk=$work/pkgs
  "$bin/zipup" gen -dir "$pk" -size "$(bytes "$size")"
  "$bin/zipup" zip -dir "$pk" -out "$work/pre.zip"
  zbytes=$(stat -c %s "$work/pre.zip")
  for link in $links; do
    shape "$link"
    rm -f "$work"/{sf,az,curl}.txt
    curlrun=false
    if [ "$size" = "$first" ] || [ "$link" = unshaped ]; then curlrun=true; fi
    for r in $(seq 1 "$rounds"); do
      : >"$work/sink.log"
      # Interleaved, the order turning each round, so that neither always
      # meets the machine's other work first.
      if [ $((r % 2)) = 1 ]; then order="sf az"; else order="az sf"; fi
      for who in $order; do
        case $who in
          sf) measure sf "$bin/zipup" up -dir "$pk" -url "$url/devstoreaccount1/c/sf.zip?sv=2019-12-12&sig=x" ;;
          az) measure az "$azcopy" copy "$work/pre.zip" "$url/devstoreaccount1/c/az.zip?sv=2019-12-12&sig=x" \
                --from-to LocalBlob --skip-version-check --output-level quiet ;;
        esac
      done
      uploads=2
      if $curlrun; then
        uploads=3
        measure curl curl -sS -T "$work/pre.zip" -H 'x-ms-blob-type: BlockBlob' "$url/devstoreaccount1/c/curl.zip?sig=x" -o /dev/null
      fi
      if [ "$(grep -c "^bytes=$zbytes " "$work/sink.log")" != "$uploads" ]; then
        echo "link $link, size $size: the sink did not receive $zbytes bytes $uploads times:"; cat "$work/sink.log"; exit 1
      fi
    done
    sf=$(cut -d' ' -f1 "$work/sf.txt" | median); az=$(cut -d' ' -f1 "$work/az.txt" | median)
    cu=–; $curlrun && cu=$(cut -d' ' -f1 "$work/curl.txt" | median)
    sfrss=$(cut -d' ' -f2 "$work/sf.txt" | sort -g | tail -1); azrss=$(cut -d' ' -f2 "$work/az.txt" | sort -g | tail -1)
    echo "| $link | $size | $sf [$(cut -d' ' -f1 "$work/sf.txt" | tr '\n' ' ')] | $az [$(cut -d' ' -f1 "$work/az.txt" | tr '\n' ' ')] | $cu | $(awk "BEGIN{printf \"%.2f\", $sf/$az}") | $sfrss / $azrss MiB |"
  done
  rm -rf "$pk" "$work/pre.zip"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== done"
