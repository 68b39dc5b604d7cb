#!/usr/bin/env bash
# bench/run.sh: run steward's benchmarks and print them against the goals.
#
#   ./bench/run.sh                                 1,000,000-entry proof ledger
#   STEWARD_BENCH_ENTRIES=10000000 ./bench/run.sh  the documented run
#
# Environment (all optional):
#   STEWARD_TEST_POSTGRES  a PostgreSQL URL to use; without it a throwaway
#                          PostgreSQL 15 is started on a free loopback port
#                          and stopped on exit (its data directory is kept,
#                          so the proof ledger is built only once)
#   STEWARD_BENCH_ENTRIES  entries in the proof benchmarks' ledger (1000000)
#   STEWARD_BENCH_PGDATA   data directory of the throwaway server
#                          ($TMPDIR/steward-bench-pg)
#   BENCHTIME              -benchtime of each append benchmark (5s)
#   PROOFTIME              -benchtime of each proof benchmark (3s)
#   REFTIME                seconds of each raw-commit reference (5)
#   COUNT                  -count of every benchmark (3); medians are shown
#   BENCH_ONLY             a -bench pattern: run only the append benchmarks
#                          matching it and skip the proofs, for a quick look
#                          (e.g. 'AppendSQLite/http'; go test matches each
#                          /-separated part on its own)
#   NICE                   niceness of the benchmarks and the throwaway
#                          server (0); a negative value (as root) keeps
#                          other work on a shared machine from skewing them
#   OUT                    directory for raw output and profiles (a new
#                          temporary directory)
#   REPORT_ONLY            if set, run nothing: print the table again from
#                          the raw output already in $OUT
#
# Raw `go test -bench` output is kept in $OUT/*.txt, in the format benchstat
# reads.
set -euo pipefail

cd "$(dirname "$0")/.."
ENTRIES=${STEWARD_BENCH_ENTRIES:-1000000}
BENCHTIME=${BENCHTIME:-5s}
PROOFTIME=${PROOFTIME:-3s}
REFTIME=${REFTIME:-5}
COUNT=${COUNT:-3}
TMP=${TMPDIR:-/tmp}
OUT=${OUT:-$(mktemp -d "$TMP/steward-bench-out.XXXXXX")}
mkdir -p "$OUT"
export STEWARD_BENCH_ENTRIES=$ENTRIES

log() { printf '== %s\n' "$*" >&2; }
NICE=${NICE:-0}
run() { nice -n "$NICE" "$@"; }

if [[ -z ${REPORT_ONLY:-} ]]; then
# --- PostgreSQL -----------------------------------------------------------

PG_STARTED=
PGBIN=
for d in /usr/local/bin /usr/lib/postgresql/15/bin; do
	if [[ -x $d/pg_ctl && -x $d/initdb ]]; then PGBIN=$d; break; fi
done

# as_pg runs a command as the postgres user when we are root (PostgreSQL
# refuses to run as root), else as ourselves.
as_pg() {
	if [[ $(id -u) == 0 ]]; then nice -n "$NICE" runuser -u postgres -- "$@"; else nice -n "$NICE" "$@"; fi
}

stop_pg() {
	if [[ -n $PG_STARTED ]]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null || true
		PG_STARTED=
	fi
}
trap stop_pg EXIT

free_port() {
	local p
	for p in $(seq 55432 55999); do
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	return 1
}

if [[ -z ${STEWARD_TEST_POSTGRES:-} && -n $PGBIN ]]; then
	PGDATA_DIR=${STEWARD_BENCH_PGDATA:-$TMP/steward-bench-pg}
	if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
		log "initdb $PGDATA_DIR"
		mkdir -p "$PGDATA_DIR"
		[[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDATA_DIR"
		as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >"$OUT/initdb.log"
	fi
	PORT=$(free_port)
	log "starting PostgreSQL on 127.0.0.1:$PORT"
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" \
		-o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDATA_DIR" -w start >/dev/null
	PG_STARTED=1
	export STEWARD_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
fi
if [[ -z ${STEWARD_TEST_POSTGRES:-} ]]; then
	log "no PostgreSQL: the PostgreSQL benchmarks are skipped"
fi

# --- Build ----------------------------------------------------------------

log "building the benchmarks into $OUT"
go test -c -o "$OUT/bench.test" ./bench
go test -c -o "$OUT/sqlstore.test" ./sqlstore

{
	echo "# machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# disk of $TMP: $(df -hT "$TMP" | awk 'NR==2 {print $1, $2}')"
	echo "# $(go version)"
	if [[ -n ${STEWARD_TEST_POSTGRES:-} ]] && command -v psql >/dev/null; then
		echo "# $(psql "$STEWARD_TEST_POSTGRES" -Atc 'SELECT version()' 2>/dev/null | cut -d, -f1)"
	fi
} >"$OUT/machine.txt"

# --- References: raw single-row commits -------------------------------------

log "reference: raw single-row commits"
(cd bench && run "$OUT/bench.test" -test.run '^$' -test.bench 'RawSQLiteCommit|RawPostgresCommit' \
	-test.benchtime "${REFTIME}s" -test.count "$COUNT") | tee "$OUT/reference.txt" >&2

PGBENCH_1= PGBENCH_64=
if [[ -n ${STEWARD_TEST_POSTGRES:-} ]] && command -v pgbench >/dev/null && command -v psql >/dev/null; then
	admin=$STEWARD_TEST_POSTGRES
	psql "$admin" -q -c 'DROP DATABASE IF EXISTS steward_pgbench' -c 'CREATE DATABASE steward_pgbench' >/dev/null
	pgdb=${admin/\/postgres\?/\/steward_pgbench?}
	psql "$pgdb" -q -c 'CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v BYTEA NOT NULL)' >/dev/null
	echo "INSERT INTO t (v) VALUES (convert_to(repeat('x', 100), 'UTF8'));" >"$OUT/pgbench.sql"
	for c in 1 64; do
		log "reference: pgbench, $c client(s), single-row INSERT per transaction"
		tps=$(run pgbench -n -c "$c" -j "$((c < 2 ? 1 : 2))" -T "$((REFTIME * 2))" -f "$OUT/pgbench.sql" "$pgdb" 2>/dev/null |
			tee "$OUT/pgbench-$c.txt" | awk '/^tps = / {print $3; exit}')
		if [[ $c == 1 ]]; then PGBENCH_1=$tps; else PGBENCH_64=$tps; fi
	done
	psql "$admin" -q -c 'DROP DATABASE steward_pgbench' >/dev/null
fi

# --- Appends ----------------------------------------------------------------

log "append benchmarks (-benchtime $BENCHTIME -count $COUNT)"
(cd bench && run "$OUT/bench.test" -test.run '^$' -test.bench "${BENCH_ONLY:-Append(SQLite|Postgres)}" \
	-test.benchtime "$BENCHTIME" -test.count "$COUNT") | tee "$OUT/append.txt" >&2

# --- Proofs -----------------------------------------------------------------

if [[ -z ${BENCH_ONLY:-} ]]; then
	log "proof benchmarks on a ledger of $ENTRIES entries (built once and cached; the first run takes minutes)"
	(cd sqlstore && run "$OUT/sqlstore.test" -test.run '^$' -test.bench 'Proofs(SQLite|Postgres)' -test.v \
		-test.benchtime "$PROOFTIME" -test.count "$COUNT" -test.timeout 0) | tee "$OUT/proofs.txt" >&2
fi

echo "# load average at end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
{ echo "PGBENCH_1=$PGBENCH_1"; echo "PGBENCH_64=$PGBENCH_64"; } >"$OUT/pgbench.env"
fi # REPORT_ONLY

# --- Report -----------------------------------------------------------------

PGBENCH_1= PGBENCH_64=
# shellcheck disable=SC1091
[[ -f $OUT/pgbench.env ]] && . "$OUT/pgbench.env"

cat "$OUT"/reference.txt "$OUT"/append.txt "$OUT"/proofs.txt 2>/dev/null | awk \
	-v pgb1="$PGBENCH_1" -v pgb64="$PGBENCH_64" -v entries="$ENTRIES" -v machine="$(cat "$OUT/machine.txt")" -v out="$OUT" '
# Every benchmark line: name, iterations, then value-unit pairs. The name
# loses its -GOMAXPROCS suffix; each (name, unit) keeps all its values.
/^Benchmark/ && NF >= 4 {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i + 1 <= NF; i += 2) {
		k = name SUBSEP $(i + 1)
		vals[k, ++n[k]] = $i
	}
}
function med(name, unit,   k, m, i, j, t, a) {
	k = name SUBSEP unit; m = n[k]
	if (m == 0) return ""
	for (i = 1; i <= m; i++) a[i] = vals[k, i] + 0
	for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }
function verdict(ok, v) { return v == "" ? "not run" : (ok ? "PASS" : "FAIL") }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.1fx", a / b) }
BEGIN { split("1 16 64 256", cs, " ") }
END {
	print ""
	print machine
	print "# raw output: " out
	print ""
	refs["SQLite"] = med("BenchmarkRawSQLiteCommit", "commits/s")
	refs["PostgreSQL"] = (pgb1 != "") ? pgb1 : med("BenchmarkRawPostgresCommit", "commits/s")
	printf "References, one client committing one single-row INSERT per transaction:\n"
	printf "  SQLite (same driver, WAL, synchronous=FULL):  %s commits/s\n", fmt(refs["SQLite"], "%.0f")
	printf "  PostgreSQL, pgbench:                          %s commits/s\n", fmt(pgb1, "%.0f")
	printf "  PostgreSQL, Go loop through database/sql:     %s commits/s\n", fmt(med("BenchmarkRawPostgresCommit", "commits/s"), "%.0f")
	printf "  PostgreSQL, pgbench with 64 clients:          %s commits/s (its own group commit)\n", fmt(pgb64, "%.0f")
	print ""
	printf "Acknowledged events/s (goal: >= 5000 from concurrent clients, a checkpoint every second)\n"
	printf "%-10s %-6s %7s %9s %8s %8s %6s %7s %7s %7s %s\n", "store", "path", "clients", "events/s", "p50 ms", "p99 ms", "ev/tx", "ckpt/s", "cpu us", "x ref", "goal"
	split("SQLite Postgres", stores, " ")
	for (si = 1; si <= 2; si++) {
		st = stores[si]; label = (st == "Postgres") ? "PostgreSQL" : st
		for (pi = 1; pi <= 2; pi++) {
			path = (pi == 1) ? "direct" : "http"
			for (ci = 1; ci <= 4; ci++) {
				b = "BenchmarkAppend" st "/" path "/clients=" cs[ci]
				ev = med(b, "events/s")
				if (ev == "") continue
				goal = (cs[ci] == 1) ? "(single client)" : verdict(ev >= 5000, ev)
				if (path == "http" && cs[ci] > 1 && ev != "" && (best[st] == "" || ev > best[st])) best[st] = ev
				ck = med(b, "checkpoints/s")
				if (ck != "" && (minck[st] == "" || ck < minck[st])) minck[st] = ck
				printf "%-10s %-6s %7s %9.0f %8.1f %8.1f %6.1f %7s %7.0f %7s %s\n", label, path, cs[ci], ev,
					med(b, "p50-ms"), med(b, "p99-ms"), med(b, "events/commit"), fmt(ck, "%.2f"),
					med(b, "cpu-µs/event"), ratio(ev, refs[label]), goal
			}
		}
	}
	print ""
	printf "Proofs on a ledger of %d entries (goal: served in < 1 ms each)\n", entries
	printf "%-10s %-12s %10s %10s %10s %s\n", "store", "proof", "direct us", "HTTP us", "HTTP p99", "goal (HTTP mean)"
	for (si = 1; si <= 2; si++) {
		st = stores[si]; label = (st == "Postgres") ? "PostgreSQL" : st
		split("Inclusion Consistency", kinds, " ")
		for (ki = 1; ki <= 2; ki++) {
			b = "BenchmarkProofs" st "/" kinds[ki]
			d = med(b, "ns/op"); h = med(b "HTTP", "ns/op"); p99 = med(b "HTTP", "p99-µs")
			if (d == "" && h == "") continue
			printf "%-10s %-12s %10s %10s %10s %s\n", label, tolower(kinds[ki]), fmt(d == "" ? "" : d / 1e3, "%.1f"),
				fmt(h == "" ? "" : h / 1e3, "%.1f"), fmt(p99, "%.0f"), verdict(h < 1e6, h)
			if (h != "") { nproof[st]++; if (h >= 1e6) slow[st]++ }
		}
	}
	print ""
	print "cpu us: CPU time of the benchmark process (clients, server, store; not PostgreSQL) per event."
	print "x ref: events/s over the raw single-client commit rate of the same database (group commit gain)."
	print "ckpt/s: checkpoints signed per second while appending (runs of 3 s or more)."
	print ""
	printf "Goals:\n"
	for (si = 1; si <= 2; si++) {
		st = stores[si]; label = (st == "Postgres") ? "PostgreSQL" : st
		printf "  %-10s >= 5000 events/s over HTTP from concurrent clients: %s (best %s events/s)\n", label,
			verdict(best[st] >= 5000, best[st]), fmt(best[st], "%.0f")
		printf "  %-10s a checkpoint every second while appending:           %s (fewest %s checkpoints/s)\n", label,
			verdict(minck[st] >= 1, minck[st]), fmt(minck[st], "%.2f")
		printf "  %-10s proofs of a %d-entry ledger served in < 1 ms:  %s\n", label, entries,
			nproof[st] == 0 ? "not run" : (slow[st] ? "FAIL" : "PASS")
	}
}'
