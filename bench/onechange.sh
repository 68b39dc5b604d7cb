#!/usr/bin/env bash
# bench/onechange.sh: one delegation changed by DNS UPDATE, re-signed and
# served, steward against Knot, in the same run.
#
#   ./bench/onechange.sh                 # 1,000,000 delegations, 100 changes
#   N=100000 CHANGES=50 ./bench/onechange.sh
#
# It builds steward, writes a zone of N delegations with `steward zone
# generate` (seed 1), signs it with `steward zone sign --keys` and makes a
# TSIG key with rndc-confgen, then starts on loopback, one after the other
# (each alone on the machine while measured):
#
#   steward  `steward zone serve --keys --allow-update`: the signed zone;
#            an update re-signs what it touches (dnssec.Signer.Patch) and
#            is served before the answer; the ZONEMD follows 1 s later
#   knot     knotd with the unsigned zone, automatic signing (ECDSA P-256,
#            NSEC, 2 signing threads), DDNS allowed with the key; no
#            ZONEMD (Knot would recompute it on every update)
#
# and, once each answers with its signed zone, runs BenchmarkUpdateToServed
# (bench/onechange_test.go): CHANGES updates, each giving a random
# delegation a new DS RRset, timed from the UPDATE sent to the first query
# that gets the new DS with its signature; the same delegations in the
# same order for both. It prints p50, p99 and max per server, the ratio to
# Knot, the time each took to be ready, and `uptime` before and after.
#
# Environment (all optional): N (1000000), CHANGES (100), SERVERS (steward
# knot), OUT (a directory to keep inputs and logs; default a temporary one,
# removed on exit), LOCK (a file to hold with flock while running).
#
# Requires knotd, rndc-confgen, dig and Go (Debian: apt-get install knot
# bind9-utils bind9-dnsutils).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOCK=${LOCK:-}
if [[ -n $LOCK && -z ${ONECHANGE_LOCKED:-} ]]; then
	exec env ONECHANGE_LOCKED=1 flock "$LOCK" "$0" "$@"
fi
N=${N:-1000000}
CHANGES=${CHANGES:-100}
SERVERS=${SERVERS-steward knot}
TMP=${TMPDIR:-/tmp}
KEEP_OUT=${OUT:+1}
OUT=${OUT:-$(mktemp -d "$TMP/steward-onechange.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'onechange.sh: %s\n' "$*" >&2; exit 1; }
for c in go knotd rndc-confgen dig; do
	command -v "$c" >/dev/null || die "$c not found"
done
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ -n $KEEP_OUT ]] || rm -rf "$OUT"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

UPTIME_BEFORE=$(uptime)
log "uptime before: $UPTIME_BEFORE"
(cd "$ROOT" && go build -o "$OUT/steward" ./cmd/steward && go test -c -o "$OUT/bench.test" ./bench)
S=$OUT/steward
if [[ ! -s $OUT/in.zone ]]; then
	log "generating $N delegations"
	"$S" zone generate --delegations "$N" --seed 1 --out "$OUT/in.zone" >/dev/null
fi
if [[ ! -s $OUT/signed.zone ]]; then
	log "signing with steward"
	rm -rf "$OUT/keys"
	"$S" zone sign --in "$OUT/in.zone" --out "$OUT/signed.zone" --keys "$OUT/keys" >/dev/null
fi
rm -f "$OUT/update.conf"
rndc-confgen -a -A hmac-sha256 -k bench-update -c "$OUT/update.conf" >/dev/null 2>&1
SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$OUT/update.conf")

# wait_signed PORT PID [LOG]: until the server answers the SOA with a
# signature; it gives up if the process ends or LOG reports a failure.
wait_signed() {
	local start=$SECONDS
	until dig +dnssec +tries=1 +time=1 -p "$1" @127.0.0.1 . SOA 2>/dev/null | grep -q 'RRSIG.*SOA'; do
		kill -0 "$2" 2>/dev/null || return 1
		[[ -z ${3:-} ]] || ! grep -q "failed" "$3" || return 1
		((SECONDS - start < 1800)) || return 1
		sleep 1
	done
}

declare -A P50 P99 MAX READY
measure() { # name port
	STEWARD_BENCH_SERVERS="$1=127.0.0.1:$2" STEWARD_BENCH_TSIG="hmac-sha256:bench-update:$SECRET" \
		STEWARD_BENCH_ZONE="$OUT/in.zone" "$OUT/bench.test" -test.run '^$' -test.bench UpdateToServed \
		-test.benchtime "${CHANGES}x" | tee "$OUT/bench.$1.txt" >&2
	local line
	line=$(grep "UpdateToServed/$1" "$OUT/bench.$1.txt")
	P50[$1]=$(awk '{for (i=1;i<=NF;i++) if ($i=="p50-ms") print $(i-1)}' <<<"$line")
	P99[$1]=$(awk '{for (i=1;i<=NF;i++) if ($i=="p99-ms") print $(i-1)}' <<<"$line")
	MAX[$1]=$(awk '{for (i=1;i<=NF;i++) if ($i=="max-ms") print $(i-1)}' <<<"$line")
}

run_steward() {
	local p pid start
	p=$(port)
	start=$SECONDS
	"$S" zone serve --in "$OUT/signed.zone" --dns "127.0.0.1:$p" --keys "$OUT/keys" \
		--tsig-file "$OUT/update.conf" --allow-update 127.0.0.1/32 >"$OUT/steward.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_signed "$p" "$pid" || { tail "$OUT/steward.log" >&2; return 1; }
	READY[steward]=$((SECONDS - start))
	measure steward "$p"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

run_knot() {
	local d=$OUT/knot p pid start
	rm -rf "$d" && mkdir -p "$d/db"
	p=$(port)
	cat >"$d/knot.conf" <<EOF
server:
    rundir: $d
    listen: 127.0.0.1@$p
database:
    storage: $d/db
    journal-db-max-size: 8G
key:
  - id: bench-update
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: update
    address: 127.0.0.1
    key: bench-update
    action: update
policy:
  - id: p256
    algorithm: ecdsap256sha256
    nsec3: off
    signing-threads: 2
template:
  - id: default
    storage: $d
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    journal-max-usage: 4G
zone:
  - domain: .
    file: $OUT/in.zone
    dnssec-signing: on
    dnssec-policy: p256
    acl: update
log:
  - target: $d/knot.log
    any: info
EOF
	start=$SECONDS
	knotd -c "$d/knot.conf" >"$OUT/knot.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_signed "$p" "$pid" "$d/knot.log" || { tail "$d/knot.log" >&2; return 1; }
	READY[knot]=$((SECONDS - start))
	measure knot "$p"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

for s in $SERVERS; do
	log "$s"
	"run_$s" || die "$s failed"
done
UPTIME_AFTER=$(uptime)
ratio() { if [[ -n ${2:-} ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; else echo -; fi; }
printf '\nOne delegation'"'"'s DS changed by DNS UPDATE, until served signed: %s delegations, %s changes\n' "$N" "$CHANGES"
printf '%-8s %10s %10s %10s %12s %10s\n' server p50-ms p99-ms max-ms p50/knot ready-s
for s in $SERVERS; do
	printf '%-8s %10s %10s %10s %12s %10s\n' "$s" "${P50[$s]}" "${P99[$s]}" "${MAX[$s]}" "$(ratio "${P50[$s]}" "${P50[knot]:-}")" "${READY[$s]}"
done
printf 'uptime before: %s\nuptime after:  %s\n' "$UPTIME_BEFORE" "$UPTIME_AFTER"
