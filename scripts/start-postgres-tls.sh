#!/usr/bin/env bash
# Turns TLS on in the local PostgreSQL that scripts/start-postgres.sh started, with a self-signed
# certificate made fresh on every run (IP SAN 127.0.0.1), and a role `mfa_tls` that the server lets
# in over TLS only (`hostnossl … reject`): a test that connects as mfa_tls without TLS is refused, so
# a test that gets in proves TLS was used. Prints the URL to export as MFA_TEST_POSTGRES_TLS_URL; its
# `sslrootcert` names the certificate, which is its own trust anchor. Loopback only.
set -euo pipefail
main() {
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v openssl >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
fi
cluster=$(pg_lsclusters --no-header | head -1)
version=$(echo "$cluster" | awk '{print $1}')
name=$(echo "$cluster" | awk '{print $2}')
port=$(echo "$cluster" | awk '{print $3}')
psql_admin() { printf '%s\n' "$1" | su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtA"; }
if [ "$(id -u)" -ne 0 ]; then psql_admin() { printf '%s\n' "$1" | sudo -u postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA; }; fi

# The server's key and certificate, readable by postgres only; a copy of the certificate for clients.
server_dir=/var/lib/postgresql/mfa-test-tls
client_dir=/tmp/mfa-test-postgres-tls
$SUDO mkdir -p "$server_dir" "$client_dir"
work=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=mfa-test-postgres" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.crt" 2>/dev/null
$SUDO install -o postgres -g postgres -m 0600 "$work/server.key" "$server_dir/server.key"
$SUDO install -o postgres -g postgres -m 0644 "$work/server.crt" "$server_dir/server.crt"
$SUDO install -m 0644 "$work/server.crt" "$client_dir/ca.pem"
rm -rf "$work"

psql_admin 'DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '"'mfa_tls'"') THEN CREATE ROLE mfa_tls LOGIN PASSWORD '"'mfa-tls-test'"'; END IF; END$$;' >/dev/null
psql_admin "GRANT CREATE ON DATABASE mfa_test TO mfa_tls" >/dev/null
psql_admin "ALTER SYSTEM SET ssl_cert_file = '$server_dir/server.crt'" >/dev/null
psql_admin "ALTER SYSTEM SET ssl_key_file = '$server_dir/server.key'" >/dev/null
psql_admin "ALTER SYSTEM SET ssl = on" >/dev/null

# mfa_tls: TLS or nothing. These lines go first (pg_hba.conf is read top down), once.
hba=$(psql_admin "SHOW hba_file")
if ! $SUDO grep -q "mfa_tls" "$hba"; then
  tmp=$(mktemp)
  { echo "hostnossl all mfa_tls 127.0.0.1/32 reject"; echo "hostssl all mfa_tls 127.0.0.1/32 scram-sha-256"; $SUDO cat "$hba"; } > "$tmp"
  $SUDO install -o postgres -g postgres -m 0640 "$tmp" "$hba"
  rm -f "$tmp"
fi
psql_admin "SELECT pg_reload_conf()" >/dev/null

# Prove both halves before handing out the URL: TLS gets in, plain text does not.
ok=no
for _ in $(seq 1 50); do
  if PGPASSWORD=mfa-tls-test PGCONNECT_TIMEOUT=2 psql "host=127.0.0.1 port=$port user=mfa_tls dbname=mfa_test sslmode=verify-full sslrootcert=$client_dir/ca.pem" -qtAc 'SELECT 1' >/dev/null 2>&1; then ok=yes; break; fi
  sleep 0.1
done
if [ "$ok" != yes ]; then
  echo "start-postgres-tls: mfa_tls@127.0.0.1:$port does not get in over TLS" >&2
  PGPASSWORD=mfa-tls-test psql "host=127.0.0.1 port=$port user=mfa_tls dbname=mfa_test sslmode=verify-full sslrootcert=$client_dir/ca.pem" -qtAc 'SELECT 1' >&2 || true
  exit 1
fi
if PGPASSWORD=mfa-tls-test PGCONNECT_TIMEOUT=2 psql "host=127.0.0.1 port=$port user=mfa_tls dbname=mfa_test sslmode=disable" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  echo "start-postgres-tls: mfa_tls got in without TLS; pg_hba.conf ($hba) does not refuse it" >&2
  exit 1
fi
echo "$port" > "$client_dir/port"
}
main >&2
echo "postgres://mfa_tls:mfa-tls-test@127.0.0.1:$(cat /tmp/mfa-test-postgres-tls/port)/mfa_test?sslmode=verify-full&sslrootcert=/tmp/mfa-test-postgres-tls/ca.pem"
