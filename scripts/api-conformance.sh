#!/usr/bin/env bash
# Runs schemathesis against a live `mfactl serve` (SQLite, loopback, a random free port) with
# Docs/openapi.yaml: every operation, positive and negative data, bounded example counts.
#   scripts/api-conformance.sh [--max-examples N] [--mfactl PATH]
set -euo pipefail
cd "$(dirname "$0")/.."

examples=40; mfactl=""
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) examples="$2"; shift 2 ;;
    --mfactl) mfactl="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# The module form works whether or not pip's script directory is on PATH.
st() { python3 -m schemathesis.cli "$@"; }
st --version >/dev/null 2>&1 || { echo "api-conformance: pip install schemathesis" >&2; exit 2; }
if [ -z "$mfactl" ]; then
  swift build --product mfactl >/dev/null
  mfactl="$(swift build --show-bin-path)/mfactl"
fi

work=$(mktemp -d)
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
export MFA_DATA_DIR="$work"
"$mfactl" serve --db "sqlite:$work/mfa.sqlite" --key-file "$work/vault.key" --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
token=$(grep -o 'mfa_[0-9a-f]*_[a-z2-7]*' "$work/serve.log" | head -1)
[ -n "$url" ] && [ -n "$token" ] || { echo "api-conformance: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# Some data for the read operations to return.
for user in alice bob; do
  curl -s -m 10 -X POST "$url/v1/devices/virtual" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"user\":\"$user\"}" >/dev/null
done
curl -s -m 10 -X POST "$url/v1/devices/yubico-otp" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"user":"carol"}' >/dev/null
curl -s -m 10 -X POST "$url/v1/devices" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"serial":"HW-0001","kind":"hardware-hotp","secretHex":"3132333435363738393031323334353637383930"}' >/dev/null

echo "api-conformance: schemathesis $(st --version | awk '{print $NF}') against $url, $examples examples per operation"
# Checks: no 5xx, documented status codes, content types, headers and response schemas, invalid
# data rejected with 4xx, authentication enforced, required headers, unsupported methods refused.
st run Docs/openapi.yaml --url "$url" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,missing_required_header,unsupported_method \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" --seed 20261121 --request-timeout 10 \
  --generation-database none --no-color
