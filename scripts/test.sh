#!/usr/bin/env bash
# Steward's test command: ./scripts/test.sh [go test flags] [packages]
#
# Installs what the tests need and is missing (as root, from Debian:
# PostgreSQL 15, chromium, npm and the DNS tools that check steward's zones;
# axe-core from the npm registry into ~/.cache/steward-test for the
# accessibility audit),
# starts a throwaway PostgreSQL 15 server on a free loopback port, then runs
# gofmt -l, go vet and go test over the whole module. Extra arguments go to go test,
# for example: ./scripts/test.sh -run Conformance ./sqlite ./postgres
#
# The server lives in a temporary directory owned by the postgres user and
# is stopped and removed on every exit. Tests find it through
# STEWARD_TEST_POSTGRES; with CI set they fail rather than skip without it.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { printf 'test.sh: %s\n' "$*" >&2; }

# --- Install what is missing (root only). ---

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

pkgs=()
if [ ! -x /usr/local/bin/initdb ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
	pkgs+=(postgresql-15)
fi
if [ ! -x /usr/bin/chromium ]; then
	pkgs+=(chromium)
fi
# command → Debian package, for the DNS tests.
for pair in ldns-verify-zone:ldnsutils dnssec-verify:bind9-utils kdig:knot-dnsutils \
	kzonecheck:knot-dnssecutils knotd:knot dig:bind9-dnsutils nsupdate:bind9-dnsutils rndc-confgen:bind9-utils nsd:nsd unbound:unbound dnsperf:dnsperf \
	npm:npm; do
	if ! have "${pair%%:*}"; then
		pkgs+=("${pair#*:}")
	fi
done
if [ "${#pkgs[@]}" -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		log "installing ${pkgs[*]}"
		# Keep package scripts from starting daemons (nsd and unbound would
		# take port 53, postgresql its own cluster): only this script starts
		# what the tests need.
		policy=""
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			policy=/usr/sbin/policy-rc.d
			printf '#!/bin/sh\nexit 101\n' >"$policy"
			chmod 755 "$policy"
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt_ok=0
		if apt-get update -q; then
			for attempt in 1 2; do
				if apt-get install -y -q --no-install-recommends "${pkgs[@]}"; then
					apt_ok=1
					break
				fi
				log "apt-get install failed (attempt $attempt)"
				sleep 5
			done
		fi
		if [ -n "$policy" ]; then
			rm -f "$policy"
		fi
		if [ "$apt_ok" -ne 1 ]; then
			log "apt-get failed"
			exit 1
		fi
	else
		log "not root: cannot install ${pkgs[*]}; tests that need them will skip (or fail under CI)"
	fi
fi

# --- axe-core, the accessibility rules the web UI's audit runs in Chromium. ---

axe_version=4.14.1
axe_dir="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/steward-test/axe-core-$axe_version"
axe_js="$axe_dir/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe_js" ]; then
	if ! have npm; then
		log "npm is missing: cannot install axe-core for the accessibility audit"
		exit 1
	fi
	log "installing axe-core $axe_version from the npm registry"
	mkdir -p "$axe_dir"
	ok=0
	for attempt in 1 2 3; do
		if npm install --prefix "$axe_dir" --no-save --no-audit --no-fund --loglevel=error "axe-core@$axe_version"; then
			ok=1
			break
		fi
		log "npm install axe-core failed (attempt $attempt)"
		sleep 5
	done
	if [ "$ok" -ne 1 ] || [ ! -f "$axe_js" ]; then
		log "could not install axe-core"
		exit 1
	fi
fi
export STEWARD_TEST_AXE="$axe_js"

# --- A throwaway PostgreSQL 15 server. ---

pgbin=""
for d in /usr/local/bin /usr/lib/postgresql/15/bin; do
	if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		pgbin=$d
		break
	fi
done
if [ -z "$pgbin" ]; then
	log "no PostgreSQL 15 binaries in /usr/local/bin or /usr/lib/postgresql/15/bin"
	exit 1
fi

# PostgreSQL refuses to run as root: run its commands as the postgres user.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/steward-pg.XXXXXX")
chmod 755 "$pgdir"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$pgdir"
fi
pgstarted=0
cleanup() {
	status=$?
	if [ "$pgstarted" -eq 1 ]; then
		as_pg "$pgbin/pg_ctl" -D "$pgdir/data" stop -m fast >/dev/null 2>&1 || true
	fi
	rm -rf "$pgdir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	else
		echo $((20000 + RANDOM % 40000))
	fi
}

as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$pgdir/initdb.log" 2>&1 ||
	{ cat "$pgdir/initdb.log" >&2; log "initdb failed"; exit 1; }
for attempt in 1 2 3 4 5; do
	port=$(free_port)
	if as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
		-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdir -c fsync=on -c max_connections=300" \
		start >/dev/null; then
		pgstarted=1
		break
	fi
	log "PostgreSQL did not start on port $port (attempt $attempt)"
	tail -n 5 "$pgdir/server.log" >&2 || true
done
if [ "$pgstarted" -ne 1 ]; then
	exit 1
fi
log "$("$pgbin/postgres" --version) on 127.0.0.1:$port"

export STEWARD_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
# Under this script every test's dependencies are present: tests that would
# skip for want of one fail instead.
export CI="${CI:-true}"
if [ -x /usr/bin/chromium ]; then
	export STEWARD_TEST_CHROMIUM=/usr/bin/chromium
fi
# nsd, unbound and others live in /usr/sbin.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) export PATH="$PATH:/usr/sbin:/sbin" ;;
esac
# Use the Go toolchain that is installed; never download another.
export GOTOOLCHAIN=local

# --- Vet and test. ---

# Arguments that name packages are vetted and tested; the others are flags
# for go test. Without packages, the whole module.
targets=()
for a in "$@"; do
	case "$a" in
	. | ./* | steward | steward/*) targets+=("$a") ;;
	esac
done
if [ "${#targets[@]}" -eq 0 ]; then
	unformatted=$(gofmt -l . || true)
	if [ -n "$unformatted" ]; then
		log "gofmt would change: $unformatted"
		exit 1
	fi
	go vet ./...
	go test -count=1 -timeout 25m "$@" ./...
else
	go vet "${targets[@]}"
	go test -count=1 -timeout 25m "$@"
fi
