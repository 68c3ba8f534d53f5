#!/usr/bin/env bash
# Load benchmark of POST /v1/verify: a release `mfactl serve` on loopback, wrk with 64 connections for a
# bounded time, on SQLite (default) or PostgreSQL (--postgres URL). Prints verifies/s and latency
# percentiles. Loopback only; every loop here is bounded in count and time.
#   scripts/bench-service.sh [--duration 10] [--users 500] [--postgres postgres://…]
#   MFACTL=/path/to/other/mfactl scripts/bench-service.sh …   (A/B: another build, same host)
#   SERVE_ARGS="--event-loops 1" scripts/bench-service.sh …  (extra options of `mfactl serve`)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10; users=500; postgres=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    --postgres) postgres="$2"; shift 2 ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "bench-service: unknown option $1 (--help lists them)" >&2; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "bench-service: install wrk (apt-get install wrk)" >&2; exit 2; }

# MFACTL=path runs a given binary instead (A/B comparisons of two builds on the same host).
if [ -n "${MFACTL:-}" ]; then
  mfactl="$MFACTL"
else
  swift build -c release --product mfactl >/dev/null
  mfactl="$(swift build -c release --show-bin-path)/mfactl"
fi
work=$(mktemp -d)
schema="bench_$$_$(date +%s)"
cleanup() {
  kill "${server:-}" 2>/dev/null || true; wait "${server:-}" 2>/dev/null || true
  # The run's schema goes with it, so repeated runs do not grow the database they measure.
  if [ -n "$postgres" ] && command -v psql >/dev/null; then psql "$postgres" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$postgres" ]; then db="$postgres?schema=$schema"; label=PostgreSQL; else db="sqlite:$work/mfa.sqlite"; label=SQLite; fi
export MFA_DATA_DIR="$work"

# Enroll the users on the store directly (fast), each with an enabled virtual device.
python3 - "$mfactl" "$db" "$work/vault.key" "$users" <<'PY'
import json, subprocess, sys, time, base64, hmac, hashlib, struct
mfactl, db, key, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def totp(secret, t):
    k = base64.b32decode(secret + "=" * (-len(secret) % 8))
    h = hmac.new(k, struct.pack(">Q", t // 30), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o+4])[0] & 0x7fffffff) % 1000000)
for i in range(users):
    out = subprocess.run([mfactl, "mfa", "create-virtual", "--user", f"u{i}", "--db", db, "--key-file", key, "--json"], check=True, capture_output=True, text=True).stdout
    d = json.loads(out); now = int(time.time())
    subprocess.run([mfactl, "mfa", "enable", "--user", f"u{i}", "--serial", d["serial"], "--code1", totp(d["secret"], now - 30), "--code2", totp(d["secret"], now), "--db", db, "--key-file", key], check=True, capture_output=True)
PY
token=$("$mfactl" api-key create --name bench --scope verifier --db "$db" --key-file "$work/vault.key" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# /metrics needs the metrics scope: a key of its own for the reference run and the counters.
metrics_token=$("$mfactl" api-key create --name bench-metrics --scope metrics --db "$db" --key-file "$work/vault.key" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# A high threshold so wrong codes do not lock the benchmark users (locking is tested elsewhere).
"$mfactl" serve --db "$db" --key-file "$work/vault.key" --listen 127.0.0.1:0 --lockout-threshold 1000 ${SERVE_ARGS:-} > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.log" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1 || true)
if [ -z "$url" ]; then echo "bench-service: the server did not start listening within 30 s; its log:" >&2; cat "$work/serve.log" >&2; exit 1; fi

cat > "$work/verify.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
local users = $users
-- Random users and codes, formatted once per thread (formatting per request costs the load generator
-- more CPU than it costs the server to answer; both share the same 2 cores).
local requests = {}
local next = 1
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  for i = 1, 20000 do
    local body = string.format('{"user":"u%d","code":"%06d"}', math.random(0, users - 1), math.random(0, 999999))
    requests[i] = wrk.format(nil, "/v1/verify", nil, body)
  end
end
request = function()
  local r = requests[next]
  next = next % #requests + 1
  return r
end
LUA
# The server's CPU time (user + system, from /proc) per request served: less sensitive than requests/s to
# what else the shared machine is doing, and it counts what the load generator does not.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
ctx() { cat /proc/$server/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
# The server's CPU time by thread name (NIO-SGLTN-*: HTTP event loops; NIO-ELT-*: the PostgreSQL
# connections' loop; *qos.overcommit: GRDB's SQLite writer queue; *default-qos: Swift's global executor).
threads() { for t in /proc/$server/task/*; do
    { comm=$(tr ' ' '_' < "$t/comm") && ticks=$(awk '{print $14 + $15}' "$t/stat") && printf '%s %s\n' "$comm" "$ticks"; } 2>/dev/null || true; done |
  awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' | sort; }
per_thread() { # before-file after-file wrk-output
  local requests; requests=$(grep -Eo '^ *[0-9]+ requests in' "$3" | grep -Eo '[0-9]+')
  join "$1" "$2" | awk -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    '$3 > $2 { printf "  thread %-16s %6.1f µs per request\n", $1, ($3 - $2) / hz * 1e6 / n }'
}
# A local PostgreSQL's CPU time (all its processes), when the store is one.
# Processes come and go between the glob and the read (cat then exits 1): that must not end the run.
pg_ticks() { { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '$2 == "(postgres)" {s += $14 + $15} END {print s + 0}'; }
per_request() { # ticks-before ticks-after wrk-output
  local requests; requests=$(grep -Eo '^ *[0-9]+ requests in' "$3" | grep -Eo '[0-9]+')
  awk -v t0="$1" -v t1="$2" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "bench-service: server CPU %.1f µs per request (%d requests)\n", (t1 - t0) / hz * 1e6 / n, n }'
}
echo "bench-service: $label, $users users, 64 connections, ${duration}s, $(nproc) cores shared with the load generator"
t0=$(cpu_ticks); c0=$(ctx); p0=$(pg_ticks); threads > "$work/threads0"
python3 -c "import resource,subprocess,sys; subprocess.run(sys.argv[1:]); r=resource.getrusage(resource.RUSAGE_CHILDREN); print(\"wrk CPU s\", r.ru_utime+r.ru_stime)" wrk -t 2 -c 64 -d "${duration}s" --latency -s "$work/verify.lua" "$url" | tee "$work/wrk.txt"
grep -q 'requests in' "$work/wrk.txt" || { echo "bench-service: wrk printed no figures (server at $url; its log: $(tail -3 "$work/serve.log"))" >&2; exit 1; }
per_request "$t0" "$(cpu_ticks)" "$work/wrk.txt"; echo "ctx switches: $(( $(ctx) - c0 ))"
threads > "$work/threads1"; per_thread "$work/threads0" "$work/threads1" "$work/wrk.txt"
[ -n "$postgres" ] && echo "bench-service: local PostgreSQL CPU $(( ($(pg_ticks) - p0) * 1000 / $(getconf CLK_TCK) )) ms over the run"
curl -s -H "Authorization: Bearer $metrics_token" "$url/metrics" | grep -E '^mfa_verify_total|^mfa_http_fast_path_total'
# The reference, measured in the same run: the HTTP stack alone (GET /metrics touches no store).
echo "bench-service: reference, GET /metrics (no store work), same server, same load generator"
t0=$(cpu_ticks); c0=$(ctx)
wrk -t 2 -c 64 -d "${duration}s" --latency -H "Authorization: Bearer $metrics_token" "$url/metrics" > "$work/wrk-metrics.txt"
grep -q 'requests in' "$work/wrk-metrics.txt" || { echo "bench-service: wrk printed no figures for the reference run" >&2; exit 1; }
grep -E "Requests/sec|  50%|  99%" "$work/wrk-metrics.txt"
per_request "$t0" "$(cpu_ticks)" "$work/wrk-metrics.txt"; echo "ctx switches: $(( $(ctx) - c0 ))"
