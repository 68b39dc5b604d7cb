#!/usr/bin/env bash
# bench/dns.sh: steward's DNS server against NSD and Knot on the real root
# zone, one server at a time, and the CPU each spends per answered query.
#
#   ./bench/dns.sh
#
# It builds steward, imports ../shared/data/root-zone/root.zone.2023051100
# into a throwaway demo instance, starts `steward serve --dns`, fetches the
# signed zone steward publishes (GET /zone/root.zone) and loads that same
# signed zone into NSD and Knot. Every server is pinned to core 0 and dnsperf
# to core 1. For each server dnsperf runs twice: flat out for $DURATION
# seconds (queries/s, the server's CPU seconds from /proc/PID/stat, CPU per
# answered query), then at a fixed $LAT_QPS queries/s with -v for the
# latency distribution (average and p99 of every answered query).
#
# Environment (all optional):
#   ZONE        the zone file to import (../shared/data/root-zone/root.zone.2023051100)
#   DELEGATIONS if set, serve instead a zone of that many delegations made by
#               `steward zone generate` (e.g. 1000000), signed by `steward zone
#               sign` and served by `steward zone serve`
#   START_WAIT  seconds to wait for each server to load the zone and answer
#               (120; a million delegations take minutes)
#   DURATION    seconds of the flat-out run (15)
#   CLIENTS     dnsperf -c (10)
#   OUTSTANDING dnsperf -q, queries in flight (100)
#   LAT_QPS     rate of the latency run (20000); 0 skips it
#   LAT_TIME    seconds of the latency run (5)
#   NQUERIES    lines in the generated query file (100000)
#   SERVERS     which servers, in order (steward nsd knot); the ratio column
#               needs nsd
#   SERVER_CPU  core the servers are pinned to (0)
#   CLIENT_CPU  core dnsperf is pinned to (1)
#   OUT         directory for the query file, configs, logs and raw dnsperf
#               output (a new temporary directory, removed on exit unless
#               OUT is given)
#
# Requires dnsperf, nsd, knotd, dig, curl and taskset (Debian: apt-get install
# dnsperf nsd knot dnsutils curl util-linux). Everything listens on 127.0.0.1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ZONE=${ZONE:-$HERE/../../shared/data/root-zone/root.zone.2023051100}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-10}
OUTSTANDING=${OUTSTANDING:-100}
LAT_QPS=${LAT_QPS:-20000}
LAT_TIME=${LAT_TIME:-5}
NQUERIES=${NQUERIES:-100000}
DELEGATIONS=${DELEGATIONS:-}
START_WAIT=${START_WAIT:-120}
SERVERS=${SERVERS:-steward nsd knot}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
TMP=${TMPDIR:-/tmp}
KEEP_OUT=${OUT:+1}
OUT=${OUT:-$(mktemp -d "$TMP/steward-dns-bench.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'dns.sh: %s\n' "$*" >&2; exit 1; }

for c in dnsperf nsd knotd dig curl taskset go; do
	command -v "$c" >/dev/null || die "$c not found (apt-get install dnsperf nsd knot dnsutils curl util-linux)"
done
[[ -n $DELEGATIONS || -f $ZONE ]] || die "no zone file at $ZONE"
(( $(nproc) >= 2 )) || log "warning: fewer than 2 CPUs; server and dnsperf share a core"

# --- Processes and cleanup ----------------------------------------------------

PIDS=()   # every server we started, by pid
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	wait 2>/dev/null || true
	if [[ -z $KEEP_OUT ]]; then rm -rf "$OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port free for TCP and, as far as a shell can
# tell, for UDP (nothing in /proc/net/udp holds it).
NEXT_PORT=25353
free_port() {
	local p hex
	for ((p = NEXT_PORT; p < 26000; p++)); do
		hex=$(printf ':%04X ' "$p")
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! grep -q "$hex" /proc/net/udp; then
			NEXT_PORT=$((p + 1)); echo "$p"; return
		fi
	done
	return 1
}

# tree_pids prints pid and all its descendants (NSD serves from a child).
tree_pids() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$c"; done
}

# cpu_ticks prints the utime+stime (clock ticks) of pid and its descendants.
cpu_ticks() {
	local p s t=0 f
	for p in $(tree_pids "$1"); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }            # fields from 3 on; comm may hold spaces
		read -r -a f <<<"$s"
		t=$((t + f[11] + f[12])) # utime, stime are fields 14 and 15
	done
	echo "$t"
}

# rss_mib prints the resident memory of pid and its descendants in MiB.
rss_mib() {
	local p t=0 k
	for p in $(tree_pids "$1"); do
		k=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		t=$((t + ${k:-0}))
	done
	echo $((t / 1024))
}

# wait_soa waits until 127.0.0.1:port answers the root SOA and prints its serial.
wait_soa() {
	local port=$1 pid=$2 i serial
	for i in $(seq $((START_WAIT * 5))); do
		kill -0 "$pid" 2>/dev/null || return 1
		serial=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" . SOA 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}')
		if [[ -n $serial ]]; then echo "$serial"; return 0; fi
		sleep 0.2
	done
	return 1
}

CLK_TCK=$(getconf CLK_TCK)

# wait_idle waits (at most START_WAIT seconds) until pid has used less than
# 5% of a CPU over two seconds: a server still loading or indexing a large
# zone in the background would otherwise be charged for it.
wait_idle() {
	local pid=$1 i t0 t1
	for ((i = 0; i < START_WAIT; i += 2)); do
		t0=$(cpu_ticks "$pid")
		sleep 2
		t1=$(cpu_ticks "$pid")
		((t1 - t0 < CLK_TCK * 2 / 20)) && return 0
	done
	log "warning: pid $pid still busy after ${START_WAIT}s"
}

# --- Steward: build, instance, import, serve -----------------------------------

log "building steward into $OUT"
(cd "$ROOT" && go build -o "$OUT/steward" ./cmd/steward)

STEWARD_PORT=$(free_port)
if [[ -n $DELEGATIONS ]]; then
	# A generated zone is signed by `steward zone sign` and served by
	# `steward zone serve` (the same DNS server, without an instance, whose
	# registry import of a million TLDs is not what is measured here).
	log "generating $DELEGATIONS delegations"
	"$OUT/steward" zone generate --delegations "$DELEGATIONS" --out "$OUT/generated.zone" >&2
	log "signing them (steward zone sign)"
	"$OUT/steward" zone sign --in "$OUT/generated.zone" --out "$OUT/root.zone" >"$OUT/sign.log" 2>&1 ||
		{ cat "$OUT/sign.log" >&2; die "zone sign failed"; }
	taskset -c "$SERVER_CPU" "$OUT/steward" zone serve --in "$OUT/root.zone" --dns "127.0.0.1:$STEWARD_PORT" >"$OUT/serve.log" 2>&1 &
	STEWARD_PID=$!
	PIDS+=("$STEWARD_PID")
	log "steward zone serve (pid $STEWARD_PID) on 127.0.0.1:$STEWARD_PORT"
	SERIAL=$(wait_soa "$STEWARD_PORT" "$STEWARD_PID") || { cat "$OUT/serve.log" >&2; die "steward does not answer"; }
	ZONE=$OUT/generated.zone
else
	log "demo instance with $(basename "$ZONE")"
	"$OUT/steward" init --demo "$OUT/instance" >"$OUT/init.log"
	"$OUT/steward" import rootzone --data "$OUT/instance" "$ZONE" | tee "$OUT/import.log" >&2

	taskset -c "$SERVER_CPU" "$OUT/steward" serve --data "$OUT/instance" --http 127.0.0.1:0 \
		--dns "127.0.0.1:$STEWARD_PORT" >"$OUT/serve.log" 2>&1 &
	STEWARD_PID=$!
	PIDS+=("$STEWARD_PID")
	log "steward serve (pid $STEWARD_PID) on 127.0.0.1:$STEWARD_PORT"
	SERIAL=$(wait_soa "$STEWARD_PORT" "$STEWARD_PID") || { cat "$OUT/serve.log" >&2; die "steward does not answer"; }

	HTTP=
	for i in $(seq $((START_WAIT * 10))); do
		HTTP=$(sed -n 's/^Steward is serving .* at \(http:\/\/[^ ]*\)$/\1/p' "$OUT/serve.log" | head -1)
		[[ -n $HTTP ]] && break
		sleep 0.1
	done
	[[ -n $HTTP ]] || die "no HTTP address in $OUT/serve.log"
	curl -fsS -o "$OUT/root.zone" "$HTTP/zone/root.zone"
fi
ZSERIAL=$(awk '$4 == "SOA" {print $7; exit}' "$OUT/root.zone")
[[ $ZSERIAL == "$SERIAL" ]] || die "zone file serial $ZSERIAL differs from the served $SERIAL"
log "signed zone: serial $SERIAL, $(grep -vc '^;' "$OUT/root.zone") records"

# --- Queries ------------------------------------------------------------------

# A root server's mix: 60% referrals for existing TLDs (www.<tld>. A), 30%
# NXDOMAIN for random nonexistent TLDs, 10% authoritative data: DS of a TLD,
# and DNSKEY and SOA at the apex. Deterministic (fixed seed).
awk -v n="$NQUERIES" '
$1 != "." && $4 == "NS" && !($1 in tld) { tld[$1] = 1; tlds[++nt] = $1 }
END {
	srand(20230511)
	for (i = 1; i <= n; i++) {
		r = rand()
		if (r < 0.60) {
			print "www." tlds[int(rand() * nt) + 1] " A"
		} else if (r < 0.90) {
			do {
				l = ""; k = 5 + int(rand() * 10)
				for (j = 0; j < k; j++) l = l substr("abcdefghijklmnopqrstuvwxyz0123456789", int(rand() * 36) + 1, 1)
			} while ((l ".") in tld)
			print l ". A"
		} else if (r < 0.94) {
			print tlds[int(rand() * nt) + 1] " DS"
		} else if (r < 0.97) {
			print ". DNSKEY"
		} else {
			print ". SOA"
		}
	}
}' "$OUT/root.zone" >"$OUT/queries"
log "query file: $NQUERIES queries, $(grep -c '^www\.' "$OUT/queries") referrals"

# --- Reference servers ----------------------------------------------------------

# start_nsd and start_knot start the server on port, pinned, and set SPID.
SPID=

start_nsd() {
	local dir=$OUT/nsd port=$1
	mkdir -p "$dir"
	cp "$OUT/root.zone" "$dir/root.zone"
	cat >"$dir/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$dir"
	database: ""
	pidfile: "$dir/nsd.pid"
	xfrdfile: "$dir/xfrd.state"
	zonelistfile: "$dir/zone.list"
	xfrdir: "$dir"
	cookie-secret-file: "$dir/cookiesecrets.txt"
	logfile: "$dir/nsd.log"
	verbosity: 1
	server-count: 1
	hide-version: yes
	hide-identity: yes
	minimal-responses: yes
	rrl-ratelimit: 0
	zonefiles-write: 0
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: "root.zone"
EOF
	taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf" >"$dir/stderr.log" 2>&1 &
	SPID=$!
}

start_knot() {
	local dir=$OUT/knot port=$1
	mkdir -p "$dir"
	cp "$OUT/root.zone" "$dir/root.zone"
	cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir"
log:
  - target: "$dir/knot.log"
    any: notice
zone:
  - domain: .
    storage: "$dir"
    file: "root.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
EOF
	taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/stderr.log" 2>&1 &
	SPID=$!
}

# --- Runs -----------------------------------------------------------------------

# bench NAME PORT PID: the two dnsperf runs against one server; results go to
# $OUT/NAME.*.
bench() {
	local name=$1 port=$2 pid=$3 t0 t1
	wait_idle "$pid"
	log "$name: dnsperf flat out for ${DURATION}s (pid $pid on core $SERVER_CPU, dnsperf on core $CLIENT_CPU)"
	t0=$(cpu_ticks "$pid")
	taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$OUT/queries" -l "$DURATION" \
		-c "$CLIENTS" -q "$OUTSTANDING" -D >"$OUT/$name.dnsperf" 2>&1
	t1=$(cpu_ticks "$pid")
	echo "$(((t1 - t0)))" >"$OUT/$name.ticks"
	rss_mib "$pid" >"$OUT/$name.rss"
	if ((LAT_QPS > 0)); then
		log "$name: dnsperf at $LAT_QPS queries/s for ${LAT_TIME}s, every latency"
		taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$OUT/queries" -l "$LAT_TIME" \
			-c "$CLIENTS" -Q "$LAT_QPS" -D -v 2>/dev/null |
			awk '/^> / { print $NF }' | sort -g >"$OUT/$name.latencies"
	fi
}

for s in $SERVERS; do
	case $s in
	steward)
		bench steward "$STEWARD_PORT" "$STEWARD_PID"
		stop_pid "$STEWARD_PID"
		;;
	nsd | knot)
		port=$(free_port)
		"start_$s" "$port"
		pid=$SPID
		PIDS+=("$pid")
		serial=$(wait_soa "$port" "$pid") || { cat "$OUT/$s/"*.log >&2; die "$s does not answer"; }
		[[ $serial == "$SERIAL" ]] || die "$s serves serial $serial, not $SERIAL"
		log "$s (pid $pid) on 127.0.0.1:$port, serial $serial"
		bench "$s" "$port" "$pid"
		stop_pid "$pid"
		;;
	*) die "unknown server $s" ;;
	esac
done

# --- Report -----------------------------------------------------------------------

echo
echo "# $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# zone: $(basename "$ZONE") as signed by steward, serial $SERIAL; $NQUERIES queries, DO set; dnsperf -c $CLIENTS -q $OUTSTANDING -l $DURATION"
echo "# $(nsd -v 2>&1 | head -1); $(knotd --version 2>&1 | head -1); dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2; exit}')"
echo "# raw output: $OUT$([[ -z $KEEP_OUT ]] && echo ' (removed on exit; set OUT to keep it)')"
echo
for s in $SERVERS; do
	f=$OUT/$s.dnsperf
	qps=$(awk '/Queries per second:/ {print $4}' "$f")
	done_=$(awk '/Queries completed:/ {print $3}' "$f")
	lost=$(awk '/Queries lost:/ {print $3}' "$f")
	avg=$(awk '/Average Latency/ {print $4}' "$f")
	resp=$(awk '/Average packet size:/ {print $NF}' "$f")
	p99=- lavg=-
	if [[ -s $OUT/$s.latencies ]]; then
		read -r lavg p99 < <(awk '{ v[NR] = $1; t += $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f %.1f\n", t / NR * 1e6, v[i] * 1e6 }' "$OUT/$s.latencies")
	fi
	printf '%s %s %s %s %s %s %s %s %s %s\n' "$s" "$qps" "$done_" "$lost" "$(cat "$OUT/$s.ticks")" "$avg" "$resp" "$(cat "$OUT/$s.rss")" "$lavg" "$p99"
done | awk -v tck="$CLK_TCK" -v lat="$LAT_QPS" '
{ name[NR] = $1; qps[NR] = $2; n[NR] = $3; lost[NR] = $4; cpu[NR] = $5 / tck; avg[NR] = $6 * 1e6; resp[NR] = $7; rss[NR] = $8; lavg[NR] = $9; p99[NR] = $10
  us[NR] = n[NR] > 0 ? cpu[NR] / n[NR] * 1e6 : 0; if ($1 == "nsd") ref = us[NR] }
END {
	printf "%-8s %9s %10s %7s %7s %8s %8s %8s %6s %8s %8s\n", "server", "queries/s", "answered", "lost", "CPU s", "CPU us/q", "x NSD", "avg us", "resp B", "avg@" lat, "p99@" lat
	for (i = 1; i <= NR; i++)
		printf "%-8s %9.0f %10d %7d %7.2f %8.2f %8s %8.0f %6d %8s %8s\n", name[i], qps[i], n[i], lost[i], cpu[i], us[i],
			ref ? sprintf("%.2fx", us[i] / ref) : "-", avg[i], resp[i], lavg[i], p99[i]
	print ""
	print "CPU us/q: the server process tree'"'"'s user+system CPU during the flat-out run / queries answered."
	print "x NSD: that figure over NSD'"'"'s. avg us: dnsperf'"'"'s average latency in the flat-out run (queueing included)."
	printf "avg@%s, p99@%s: latency in microseconds of every answer at a fixed %s queries/s (dnsperf -v).\n", lat, lat, lat
	print "resp B: average response size. RSS (MiB) after the run: " ; for (i = 1; i <= NR; i++) printf "  %s %d", name[i], rss[i]; print ""
}'
echo
for s in $SERVERS; do
	printf '%-8s %s\n' "$s" "$(grep -m1 'Response codes:' "$OUT/$s.dnsperf" | sed 's/^ *//')"
done
