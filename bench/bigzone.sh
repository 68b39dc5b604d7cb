#!/usr/bin/env bash
# bench/bigzone.sh: signing and loading a large zone, steward against Knot,
# BIND and ldns, in the same run.
#
#   ./bench/bigzone.sh                  # 1,000,000 delegations
#   N=100000 ./bench/bigzone.sh         # a quicker run
#
# It builds steward, writes a zone of N delegations with `steward zone
# generate` (seed 1), then:
#
#  1. checks steward's signer on a zone of VERIFY_N delegations with
#     kzonecheck -d on and dnssec-verify;
#  2. signs the N-delegation zone with each signer in SIGNERS, one after the
#     other, each with fresh ECDSA P-256 keys, NSEC, under /usr/bin/time -v
#     (wall, user and system CPU, peak resident memory):
#       steward  `steward zone sign` (ZONEMD SHA-384, GOMAXPROCS = all cores,
#                --gc-percent 20 by default; it writes the zone as it signs)
#       knot     kzonesign, policy signing-threads: 2, ZONEMD SHA-384
#       bind     dnssec-signzone -n 2 -x (two threads; BIND 9.18 makes no
#                ZONEMD; its post-signing verification runs, as by default)
#       ldns     ldns-signzone -z simple:sha384 (one thread)
#  3. loads the zone steward signed into each server in LOADERS and measures
#     the time from start until it answers the SOA query with the zone's
#     serial, and its resident memory then:
#       steward  `steward zone serve` (zone file read into zone.Zone, then
#                handed to the DNS server)
#       nsd      nsd -d with the zone (no zone database), one server process
#       knot     knotd with the zone (zonefile-load: whole, no journal)
#
# and prints a table with ratios to Knot. With LOCK set, the whole run holds
# that file with flock (one benchmark on a shared machine at a time). It
# prints `uptime` before and after.
#
# Environment (all optional; SIGNERS="" or LOADERS="" skips that part): N (1000000), VERIFY_N (20000), SIGNERS
# (steward knot bind ldns), LOADERS (steward nsd knot), THREADS (2), OUT (a
# directory to keep inputs, outputs and logs; default a temporary one,
# removed on exit), LOCK (a lock file to hold with flock; none by default).
#
# Requires kzonesign, kzonecheck, knotd, dnssec-signzone, dnssec-keygen,
# dnssec-verify, ldns-signzone, ldns-keygen, nsd, dig and GNU time (Debian:
# apt-get install knot knot-dnsutils bind9-utils bind9-dnsutils ldnsutils nsd time).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOCK=${LOCK:-}
if [[ -n $LOCK && -z ${BIGZONE_LOCKED:-} ]]; then
	exec env BIGZONE_LOCKED=1 flock "$LOCK" "$0" "$@"
fi

N=${N:-1000000}
VERIFY_N=${VERIFY_N:-20000}
SIGNERS=${SIGNERS-steward knot bind ldns}
LOADERS=${LOADERS-steward nsd knot}
THREADS=${THREADS:-2}
TMP=${TMPDIR:-/tmp}
KEEP_OUT=${OUT:+1}
OUT=${OUT:-$(mktemp -d "$TMP/steward-bigzone.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bigzone.sh: %s\n' "$*" >&2; exit 1; }

for c in go kzonesign kzonecheck knotd dnssec-signzone dnssec-keygen dnssec-verify ldns-signzone ldns-keygen nsd dig /usr/bin/time; do
	command -v "$c" >/dev/null || die "$c not found"
done

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ -n $KEEP_OUT ]] || rm -rf "$OUT"
}
trap cleanup EXIT

log "uptime before: $(uptime)"
UPTIME_BEFORE=$(uptime)
log "building steward"
(cd "$ROOT" && go build -o "$OUT/steward" ./cmd/steward)
S=$OUT/steward

# ---- 1. check steward's output with real validators, on a smaller zone
log "checking steward's signer on $VERIFY_N delegations with kzonecheck and dnssec-verify"
"$S" zone generate --delegations "$VERIFY_N" --seed 2 --out "$OUT/verify.zone" >/dev/null
"$S" zone sign --in "$OUT/verify.zone" --out "$OUT/verify.signed" >/dev/null
kzonecheck -o . -d on "$OUT/verify.signed" >"$OUT/verify.kzonecheck" 2>&1 || { cat "$OUT/verify.kzonecheck"; die "kzonecheck rejects steward's signed zone"; }
dnssec-verify -o . "$OUT/verify.signed" >"$OUT/verify.dnssec-verify" 2>&1 || { cat "$OUT/verify.dnssec-verify"; die "dnssec-verify rejects steward's signed zone"; }
log "kzonecheck and dnssec-verify accept it"

# ---- 2. signing
log "generating $N delegations"
/usr/bin/time -v -o "$OUT/time.generate" "$S" zone generate --delegations "$N" --seed 1 --out "$OUT/in.zone" >"$OUT/generate.txt"
cat "$OUT/generate.txt" >&2

# field FILE NAME: a value from a /usr/bin/time -v report.
field() { grep -F "$2" "$1" | sed 's/.*: //'; }
wall() { # h:mm:ss or m:ss.cc to seconds
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }' <<<"$(field "$1" 'Elapsed (wall clock)')"
}
cpu() { awk -v u="$(field "$1" 'User time')" -v s="$(field "$1" 'System time')" 'BEGIN { printf "%.1f", u + s }'; }
rss() { awk -v k="$(field "$1" 'Maximum resident')" 'BEGIN { printf "%.0f", k / 1024 }'; }

declare -A SIGN_WALL SIGN_CPU SIGN_RSS SIGN_HOW
sign_steward() {
	SIGN_HOW[steward]="steward zone sign, GOMAXPROCS=$(nproc), GOGC=${GOGC:-20}"
	/usr/bin/time -v -o "$OUT/time.sign.steward" "$S" zone sign --in "$OUT/in.zone" --out "$OUT/steward.signed" >"$OUT/sign.steward.log" 2>&1
}
sign_knot() {
	SIGN_HOW[knot]="kzonesign, signing-threads: $THREADS"
	local d=$OUT/knot-sign
	rm -rf "$d" && mkdir -p "$d/db" "$d/out"
	cat >"$d/knot.conf" <<EOF
server:
    rundir: $d
database:
    storage: $d/db
policy:
  - id: p256
    algorithm: ecdsap256sha256
    nsec3: off
    signing-threads: $THREADS
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
template:
  - id: default
    storage: $d
zone:
  - domain: .
    file: $OUT/in.zone
    dnssec-signing: on
    dnssec-policy: p256
    zonemd-generate: zonemd-sha384
EOF
	/usr/bin/time -v -o "$OUT/time.sign.knot" kzonesign -c "$d/knot.conf" -o "$d/out" . >"$OUT/sign.knot.log" 2>&1
}
sign_bind() {
	SIGN_HOW[bind]="dnssec-signzone -n $THREADS -x (verifies after signing; no ZONEMD)"
	local d=$OUT/bind-sign
	rm -rf "$d" && mkdir -p "$d"
	dnssec-keygen -q -K "$d" -a ECDSAP256SHA256 -f KSK . >/dev/null
	dnssec-keygen -q -K "$d" -a ECDSAP256SHA256 . >/dev/null
	/usr/bin/time -v -o "$OUT/time.sign.bind" dnssec-signzone -q -S -K "$d" -d "$d" -x -n "$THREADS" -o . -e +1209600 -f "$d/signed" "$OUT/in.zone" >"$OUT/sign.bind.log" 2>&1
}
sign_ldns() {
	SIGN_HOW[ldns]="ldns-signzone -z simple:sha384 (one thread)"
	local d=$OUT/ldns-sign
	rm -rf "$d" && mkdir -p "$d"
	local ksk zsk
	ksk=$(cd "$d" && ldns-keygen -a ECDSAP256SHA256 -k .)
	zsk=$(cd "$d" && ldns-keygen -a ECDSAP256SHA256 .)
	/usr/bin/time -v -o "$OUT/time.sign.ldns" ldns-signzone -z simple:sha384 -o . -e "$(date -u -d '+14 days' +%Y%m%d%H%M%S)" -f "$d/signed" "$OUT/in.zone" "$d/$zsk" "$d/$ksk" >"$OUT/sign.ldns.log" 2>&1
}
for s in $SIGNERS; do
	log "signing with $s"
	if ! "sign_$s"; then
		cat "$OUT/sign.$s.log" >&2
		die "$s failed to sign"
	fi
	SIGN_WALL[$s]=$(wall "$OUT/time.sign.$s")
	SIGN_CPU[$s]=$(cpu "$OUT/time.sign.$s")
	SIGN_RSS[$s]=$(rss "$OUT/time.sign.$s")
	log "$s: ${SIGN_WALL[$s]} s wall, ${SIGN_CPU[$s]} s CPU, ${SIGN_RSS[$s]} MB peak"
done

# ---- 3. loading and serving the signed zone
declare -A LOAD_WALL LOAD_RSS
SIGNED=$OUT/steward.signed
[[ -f $SIGNED ]] || { "$S" zone sign --in "$OUT/in.zone" --out "$SIGNED" >/dev/null; }
SERIAL=$(awk '$4 == "SOA" { print $7; exit }' "$SIGNED")
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_soa PORT PID: seconds from now until the server answers the SOA
# query with the serial (fractional), or failure if PID exits.
wait_soa() {
	local start=$1 p=$2 pid=$3
	while :; do
		if [[ $(dig +short +norec +time=1 +tries=1 -p "$p" @127.0.0.1 . SOA 2>/dev/null | awk '{ print $3 }') == "$SERIAL" ]]; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
# rss_of PID...: resident memory in MB of the processes, summed.
rss_of() {
	local kb=0 p v
	for p in "$@"; do
		v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		kb=$((kb + ${v:-0}))
	done
	echo $((kb / 1024))
}
load_steward() {
	local p pid start
	p=$(port)
	start=$(date +%s.%N)
	"$S" zone serve --in "$SIGNED" --dns "127.0.0.1:$p" >"$OUT/load.steward.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	LOAD_WALL[steward]=$(wait_soa "$start" "$p" "$pid") || return 1
	# The DNS server precomputes wire-format answers in the background
	# once the zone is served: the resident memory is taken after that.
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q 'zone answers precomputed' "$OUT/load.steward.log" && break
		sleep 0.5
	done
	STEWARD_PRECOMPUTED=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	sleep 1
	LOAD_RSS[steward]=$(rss_of "$pid")
	# steward's own account: the file read into zone.Zone, then the DNS
	# server's index and precomputed answers (dnsserver.SetZone).
	STEWARD_SERVE=$(grep -o 'read_seconds=[0-9.]* ready_seconds=[0-9.]* heap_mb=[0-9]*' "$OUT/load.steward.log" || true)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
load_nsd() {
	local d=$OUT/nsd p pid start
	rm -rf "$d" && mkdir -p "$d"
	p=$(port)
	cat >"$d/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$p
    port: $p
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$d"
    pidfile: "$d/nsd.pid"
    database: ""
    zonelistfile: "$d/zone.list"
    xfrdfile: "$d/xfrd.state"
    xfrdir: "$d"
    logfile: "$d/nsd.log"
remote-control:
    control-enable: no
zone:
    name: "."
    zonefile: "$SIGNED"
EOF
	start=$(date +%s.%N)
	nsd -d -c "$d/nsd.conf" >"$OUT/load.nsd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	LOAD_WALL[nsd]=$(wait_soa "$start" "$p" "$pid") || { cat "$d/nsd.log" >&2; return 1; }
	sleep 1
	# NSD's main process, its xfrd and its server process (forked, sharing
	# the zone's pages): the largest is what the zone costs.
	local max=0 c r
	for c in $pid $(pgrep -P "$pid"); do
		r=$(rss_of "$c")
		((r > max)) && max=$r
	done
	LOAD_RSS[nsd]=$max
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
load_knot() {
	local d=$OUT/knot-load p pid start
	rm -rf "$d" && mkdir -p "$d/db"
	p=$(port)
	cat >"$d/knot.conf" <<EOF
server:
    rundir: $d
    listen: 127.0.0.1@$p
database:
    storage: $d/db
    journal-db-max-size: 8G
template:
  - id: default
    storage: $d
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: .
    file: $SIGNED
log:
  - target: $d/knot.log
    any: info
EOF
	start=$(date +%s.%N)
	knotd -c "$d/knot.conf" >"$OUT/load.knot.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	LOAD_WALL[knot]=$(wait_soa "$start" "$p" "$pid") || { cat "$d/knot.log" >&2; return 1; }
	sleep 1
	LOAD_RSS[knot]=$(rss_of "$pid")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
for l in $LOADERS; do
	log "loading the signed zone into $l"
	"load_$l" || die "$l failed to load the zone"
	log "$l: answers after ${LOAD_WALL[$l]} s, ${LOAD_RSS[$l]} MB resident"
done

UPTIME_AFTER=$(uptime)
ratio() { # value reference
	if [[ -n ${2:-} && ${2:-0} != 0 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo -; fi
}
{
	echo
	echo "Large zone: $(cat "$OUT/generate.txt")"
	echo "uptime before: $UPTIME_BEFORE"
	echo "uptime after:  $UPTIME_AFTER"
	echo
	printf '%-8s %9s %9s %9s %10s %10s  %s\n' signer 'wall s' 'CPU s' 'peak MB' 'wall/knot' 'peak/knot' how
	for s in $SIGNERS; do
		printf '%-8s %9s %9s %9s %10s %10s  %s\n' "$s" "${SIGN_WALL[$s]}" "${SIGN_CPU[$s]}" "${SIGN_RSS[$s]}" \
			"$(ratio "${SIGN_WALL[$s]}" "${SIGN_WALL[knot]:-}")" "$(ratio "${SIGN_RSS[$s]}" "${SIGN_RSS[knot]:-}")" "${SIGN_HOW[$s]}"
	done
	echo
	printf '%-8s %9s %9s %10s %10s %10s\n' server 'load s' 'RSS MB' 'load/nsd' 'load/knot' 'RSS/knot'
	for l in $LOADERS; do
		printf '%-8s %9s %9s %10s %10s %10s\n' "$l" "${LOAD_WALL[$l]}" "${LOAD_RSS[$l]}" \
			"$(ratio "${LOAD_WALL[$l]}" "${LOAD_WALL[nsd]:-}")" "$(ratio "${LOAD_WALL[$l]}" "${LOAD_WALL[knot]:-}")" "$(ratio "${LOAD_RSS[$l]}" "${LOAD_RSS[knot]:-}")"
	done
	[[ -z ${STEWARD_SERVE:-} ]] || echo "steward zone serve: $STEWARD_SERVE (read: file into zone.Zone; ready: after dnsserver.SetZone; heap after GC); precomputed answers ready after ${STEWARD_PRECOMPUTED:-?} s (RSS taken then)"
} | tee "$OUT/table.txt"
