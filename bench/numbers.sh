#!/usr/bin/env bash
# bench/numbers.sh: the number registry's benchmarks against their goals.
#
#   import all five RIRs' statistics at today's size (681,100 generated
#   records in the real files' shape), into a fresh SQLite store   goal < 10 s
#   the same into PostgreSQL (when STEWARD_TEST_POSTGRES is set)
#   rebuild the index after one change, over the same records       goal < 100 ms
#   build the index from scratch; bring a Live index up to date
#   after one allocation in a store holding the real files
#
# Settings: COUNT (1), OUT (a temporary directory). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1}
OUT=${OUT:-$(mktemp -d)}
log() { echo "numbers.sh: $*" >&2; }

go test -c -o "$OUT/bench.test" ./bench
pat='ImportStats/sqlite|IndexBuild|IndexRebuild|LiveUpdate|ImportRealStats'
if [[ -n ${STEWARD_TEST_POSTGRES:-} ]]; then pat="$pat|ImportStats/postgres"; fi
log "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
(cd bench && "$OUT/bench.test" -test.run '^$' -test.bench "$pat" -test.benchtime 1x -test.count "$COUNT" -test.timeout 0) | tee "$OUT/numbers.txt"
rebuild=$(cd bench && "$OUT/bench.test" -test.run '^$' -test.bench 'IndexRebuild$' -test.benchtime 20x | awk '/^BenchmarkIndexRebuild/ {print $3}')

awk -v rebuild="$rebuild" '
function cpu(   i) { for (i = 4; i < NF; i++) if ($(i + 1) == "cpu-s/op") return $i; return 0 }
/^BenchmarkImportStats\/sqlite/   { s = $3 / 1e9; sc = cpu() }
/^BenchmarkImportStats\/postgres/ { p = $3 / 1e9; pc = cpu() }
/^BenchmarkImportRealStats/       { r = $3 / 1e9; rc = cpu() }
/^BenchmarkIndexBuild/            { b = $3 / 1e6 }
/^BenchmarkLiveUpdate/            { l = $3 / 1e6 }
END {
	printf "\n%-58s %12s %10s %s\n", "measure", "value", "goal", ""
	printf "%-58s %10.1f s %10s %s (%.1f s of CPU)\n", "import 5 RIRs, 681,100 records, SQLite", s, "< 10 s", (s < 10 ? "PASS" : "FAIL"), sc
	if (p) printf "%-58s %10.1f s %10s %s (%.1f s of CPU)\n", "import 5 RIRs, 681,100 records, PostgreSQL", p, "< 10 s", (p < 10 ? "PASS" : "FAIL"), pc
	printf "%-58s %10.1f s (%.1f s of CPU)\n", "import the real files (134,802 records), SQLite", r, rc
	printf "%-58s %10.1f ms %9s %s\n", "index rebuild after one change, 681,100 blocks", rebuild / 1e6, "< 100 ms", (rebuild / 1e6 < 100 ? "PASS" : "FAIL")
	printf "%-58s %10.1f ms\n", "index build from scratch, 681,100 blocks", b
	printf "%-58s %10.1f ms\n", "Live update after an allocation, real files in SQLite", l
}' "$OUT/numbers.txt"
log "raw output in $OUT"
