#!/usr/bin/env bash
# Starts a local PostgreSQL (Debian's cluster, no systemd needed), creates the role and the test
# database, and prints the URL to export as MFA_TEST_POSTGRES_URL. Loopback only.
set -euo pipefail
# Only the URL goes to stdout (callers capture it); everything in main, including what pg_ctlcluster
# prints ("Removed stale pid file."), goes to stderr. (Not `exec 3>&1`: the postmaster would inherit
# the caller's pipe and `$(…)` would never end.)
main() {

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "start-postgres: installing postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

cluster=$(pg_lsclusters --no-header | head -1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  $SUDO pg_createcluster "$version" main >/dev/null
  cluster=$(pg_lsclusters --no-header | head -1)
fi
version=$(echo "$cluster" | awk '{print $1}')
name=$(echo "$cluster" | awk '{print $2}')
port=$(echo "$cluster" | awk '{print $3}')
if ! echo "$cluster" | grep -q online; then
  echo "start-postgres: starting cluster $version/$name on port $port" >&2
  # A crashed server leaves lock files whose processes take a moment to go: try again once.
  $SUDO pg_ctlcluster "$version" "$name" start || { sleep 3; $SUDO pg_ctlcluster "$version" "$name" start; }
fi

for _ in $(seq 1 100); do
  if $SUDO -u postgres psql -p "$port" -qtAc 'SELECT 1' >/dev/null 2>&1 || su postgres -c "psql -p $port -qtAc 'SELECT 1'" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

# SQL goes in on stdin: no shell quoting of $$ or quotes.
psql_admin() { printf '%s\n' "$1" | su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtA"; }
if [ "$(id -u)" -ne 0 ]; then psql_admin() { printf '%s\n' "$1" | sudo -u postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA; }; fi

# Many test processes each keep a small pool: allow more connections than the default 100.
# The tests connect over TCP to 127.0.0.1; Debian's default listen_addresses ('localhost') follows
# /etc/hosts, which on some machines names only ::1. Pin the IPv4 loopback explicitly.
restart=no
if [ "$(psql_admin "SHOW max_connections")" -lt 300 ]; then
  psql_admin "ALTER SYSTEM SET max_connections = 300" >/dev/null
  restart=yes
fi
if [ "$(psql_admin "SHOW listen_addresses")" != "127.0.0.1" ]; then
  psql_admin "ALTER SYSTEM SET listen_addresses = '127.0.0.1'" >/dev/null
  restart=yes
fi
if [ "$restart" = yes ]; then
  $SUDO pg_ctlcluster "$version" "$name" restart
  for _ in $(seq 1 100); do psql_admin 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
fi

psql_admin 'DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '"'mfa'"') THEN CREATE ROLE mfa LOGIN PASSWORD '"'mfa-test'"'; END IF; END$$;' >/dev/null
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'mfa_test'")" != "1" ]; then
  psql_admin "CREATE DATABASE mfa_test OWNER mfa" >/dev/null
fi
# Prove the login the tests use (TCP, password) works before handing out the URL.
ok=no
for _ in $(seq 1 100); do
  if PGPASSWORD=mfa-test PGCONNECT_TIMEOUT=2 psql "host=127.0.0.1 port=$port user=mfa dbname=mfa_test" -qtAc 'SELECT 1' >/dev/null 2>&1; then ok=yes; break; fi
  sleep 0.1
done
if [ "$ok" != yes ]; then
  echo "start-postgres: PostgreSQL does not accept mfa@127.0.0.1:$port over TCP" >&2
  PGPASSWORD=mfa-test PGCONNECT_TIMEOUT=2 psql "host=127.0.0.1 port=$port user=mfa dbname=mfa_test" -qtAc 'SELECT 1' >&2 || true
  tail -20 "/var/log/postgresql/postgresql-$version-$name.log" >&2 || true
  exit 1
fi
}
main >&2
echo "postgres://mfa:mfa-test@127.0.0.1:$port/mfa_test"
