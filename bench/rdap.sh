#!/usr/bin/env bash
# bench/rdap.sh: RDAP lookups by IP address and AS number against steward's
# HTTP server, pinned to one core, under wrk on loopback.
#
#   ./bench/rdap.sh
#
# It builds steward, creates a throwaway demo instance, imports the real
# regional registry statistics files in ../shared/data/rir-stats (AFRINIC
# extended 2024, APNIC and RIPE NCC 2014: about 135,000 blocks), starts
# `steward serve` pinned to core $SERVER_CPU, waits until RDAP answers for
# the imported blocks, and runs wrk pinned to core $CLIENT_CPU with keep-alive
# connections over a mix of lookups: ip/ADDRESS (an address inside each
# IPv4 and IPv6 block) and autnum/NUMBER (each AS block), shuffled. It
# reports requests per second and wrk's latency percentiles, and checks the
# goals: at least 20,000 requests per second with a p99 under 5 ms.
#
# Environment (all optional):
#   DURATION    seconds of the run (20)
#   CONNS       wrk connections (32)
#   THREADS     wrk threads (1)
#   NQUERIES    distinct lookups in the mix (10000)
#   WARMUP      seconds of the warm-up run, which renders every object of
#               the mix once (10)
#   SERVER_CPU  core steward is pinned to (0)
#   CLIENT_CPU  core wrk is pinned to (1)
#   OUT         directory for the instance, logs and wrk output (a new
#               temporary directory, removed on exit unless OUT is given)
#
# Requires wrk, curl and taskset (Debian: apt-get install wrk curl util-linux).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DATA=$ROOT/../shared/data/rir-stats
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
NQUERIES=${NQUERIES:-10000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WARMUP=${WARMUP:-10}
TMP=${TMPDIR:-/tmp}
KEEP_OUT=${OUT:+1}
OUT=${OUT:-$(mktemp -d "$TMP/steward-rdap-bench.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'rdap.sh: %s\n' "$*" >&2; exit 1; }

for c in wrk curl taskset go; do
	command -v "$c" >/dev/null || die "$c not found (apt-get install wrk curl util-linux)"
done
FILES=("$DATA"/delegated-afrinic-extended-20240105 "$DATA"/delegated-apnic-20140630 "$DATA"/delegated-ripencc-20140630)
for f in "${FILES[@]}"; do [[ -f $f ]] || die "no statistics file $f"; done

PID=
cleanup() {
	if [[ -n $PID ]]; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	[[ -n $KEEP_OUT ]] || rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building steward"
(cd "$ROOT" && go build -o "$OUT/steward" ./cmd/steward)
"$OUT/steward" init --demo "$OUT/instance" >"$OUT/init.log"
log "importing ${#FILES[@]} statistics files"
start=$(date +%s.%N)
"$OUT/steward" import rir-stats --data "$OUT/instance" "${FILES[@]}" >"$OUT/import.log"
log "imported in $(echo "$(date +%s.%N) - $start" | bc) s"

# The lookups: an address inside each block, each AS range's first number.
awk -F'|' -v n="$NQUERIES" -v seed=1 '
	BEGIN { srand(seed) }
	$3 == "ipv4" && $4 ~ /^[0-9.]+$/ { split($4, o, "."); span = ($5 < 256 ? $5 : 256) - o[4]; q[++k] = "/rdap/ip/" o[1] "." o[2] "." o[3] "." o[4] + int(rand() * span) }
	$3 == "ipv6" && $4 ~ /:/ { a = $4; sub(/::$/, "::", a); q[++k] = "/rdap/ip/" a (a ~ /::$/ ? "" : "::") "1" }
	$3 == "asn" && $4 ~ /^[0-9]+$/ { q[++k] = "/rdap/autnum/" $4 }
	END {
		for (i = k; i > 1; i--) { j = int(rand() * i) + 1; t = q[i]; q[i] = q[j]; q[j] = t }
		for (i = 1; i <= k && i <= n; i++) print q[i]
	}' "${FILES[@]}" | sed 's/::::1$/::1/' >"$OUT/paths.txt"
log "$(wc -l <"$OUT/paths.txt") distinct lookups ($(grep -c /ip/ "$OUT/paths.txt") ip, $(grep -c /autnum/ "$OUT/paths.txt") autnum)"

taskset -c "$SERVER_CPU" "$OUT/steward" serve --data "$OUT/instance" --http 127.0.0.1:0 --log-level warn >"$OUT/serve.log" 2>&1 &
PID=$!
HTTP=
for _ in $(seq 1 300); do
	HTTP=$(sed -n 's/^Steward is serving .* at \(http:\/\/[^ ]*\)$/\1/p' "$OUT/serve.log" | head -1)
	[[ -n $HTTP ]] && break
	kill -0 "$PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; die "steward serve exited"; }
	sleep 0.1
done
[[ -n $HTTP ]] || die "no HTTP address in $OUT/serve.log"
# RDAP is ready once its snapshot holds the imported blocks.
probe=$(head -1 "$OUT/paths.txt")
for _ in $(seq 1 600); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$HTTP$probe" || true)
	[[ $code == 200 ]] && break
	sleep 0.1
done
[[ $code == 200 ]] || die "GET $probe: $code"
# Every lookup in the mix answers 200 (a sample of them, checked before the run).
bad=0
while read -r p; do
	c=$(curl -s -o /dev/null -w '%{http_code}' "$HTTP$p")
	[[ $c == 200 ]] || { log "GET $p: $c"; bad=$((bad + 1)); }
done < <(awk 'NR % 500 == 1' "$OUT/paths.txt")
(( bad == 0 )) || die "$bad sampled lookups did not answer 200"

cat >"$OUT/mix.lua" <<LUA
local paths = {}
for line in io.lines("$OUT/paths.txt") do paths[#paths + 1] = line end
local i = 0
request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i], {["Accept"] = "application/rdap+json"})
end
done = function(summary, latency, requests)
	io.write(string.format("RESULT requests=%d errors=%d non2xx=%d seconds=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
		summary.errors.status, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA
log "warming up ($WARMUP s): every lookup of the mix is answered once"
taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$OUT/mix.lua" "$HTTP" >"$OUT/warmup.txt"
grep '^RESULT' "$OUT/warmup.txt" >&2
log "wrk -t$THREADS -c$CONNS -d${DURATION}s, steward on core $SERVER_CPU, wrk on core $CLIENT_CPU"
cpu0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$OUT/mix.lua" "$HTTP" | tee "$OUT/wrk.txt" >&2
line=$(grep '^RESULT' "$OUT/wrk.txt")
rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line")
p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")
cpu1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
reqs=$(sed -n 's/.*RESULT requests=\([0-9]*\).*/\1/p' <<<"$line")
# CPU the server spent per answered request in the measured run (clock
# ticks of 10 ms), and the rate one whole core would serve at that cost.
us_per_req=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$reqs" 'BEGIN { printf "%.1f", (b - a) * 10000 / n }')
core_rps=$(awk -v u="$us_per_req" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }')
cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$PID/stat")
load=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\n%-40s %12s %10s %14s %18s\n' "RDAP lookups (ip + autnum), one core" "requests/s" "p99 ms" "CPU us/request" "requests/s per core"
printf '%-40s %12s %10s %14s %18s\n' "steward" "$rps" "$p99" "$us_per_req" "$core_rps"
ok=PASS
(( rps >= 20000 )) || ok=FAIL
awk -v p="$p99" 'BEGIN { exit !(p < 5) }' || ok=FAIL
(( non2xx == 0 )) || ok=FAIL
printf 'goal: >= 20,000 requests/s, p99 < 5 ms, every answer 2xx (%s non-2xx): %s\n' "$non2xx" "$ok"
printf 'steward CPU time since it started (snapshot build and warm-up included): %s s; load average %s on %s cores\n' "$cpu" "$load" "$(nproc)"
[[ $ok == PASS ]]
