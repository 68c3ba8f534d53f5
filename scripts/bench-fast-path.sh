#!/usr/bin/env bash
# A/B of the verify fast path on one host in one run: rounds of scripts/bench-service.sh with the
# fast path on and off (--no-fast-path), and with MFACTL_B another build's fast path, interleaved so
# that the machine's drift hits every variant alike. Prints each run's verifies/s and server CPU per
# verify, then medians and per-round ratios. Bounded: rounds × variants runs of --duration seconds.
#   scripts/bench-fast-path.sh [--rounds 3] [--duration 10] [--users 200]
#   MFACTL=/path/to/mfactl MFACTL_B=/path/to/other/mfactl scripts/bench-fast-path.sh …
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3; duration=10; users=200
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "bench-fast-path: unknown option $1 (--help lists them)" >&2; exit 64 ;;
  esac
done
[ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] || { echo "bench-fast-path: --rounds must be 1-20" >&2; exit 64; }

if [ -z "${MFACTL:-}" ]; then
  swift build -c release --product mfactl >/dev/null
  MFACTL="$(swift build -c release --show-bin-path)/mfactl"
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT

run() { # name, binary, serve's extra options
  local name="$1" binary="$2" out rps cpu ref
  out=$(MFACTL="$binary" SERVE_ARGS="$3" scripts/bench-service.sh --duration "$duration" --users "$users")
  # The verify run's figures come first; the reference run (GET /metrics) follows.
  rps=$(grep -m1 'Requests/sec' <<<"$out" | awk '{print $2}')
  cpu=$(grep -m1 'server CPU' <<<"$out" | awk '{print $4}')
  ref=$(grep 'Requests/sec' <<<"$out" | sed -n 2p | awk '{print $2}')
  printf '%s %s %s %s\n' "$name" "$rps" "$cpu" "$ref" >> "$results"
  printf '  %-4s %9s verifies/s  %6s µs CPU/verify  (reference GET /metrics %s/s)\n' "$name" "$rps" "$cpu" "$ref"
}

echo "bench-fast-path: $rounds rounds, ${duration}s per run, $users users, $(date -u +%FT%TZ)${MFACTL_B:+, B = $MFACTL_B}"
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  run on "$MFACTL" ""
  [ -n "${MFACTL_B:-}" ] && run B "$MFACTL_B" ""
  run off "$MFACTL" "--no-fast-path"
done

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for name, rps, cpu, ref in (line.split() for line in open(sys.argv[1])):
    runs.setdefault(name, []).append((float(rps), float(cpu)))
print("medians:")
for name, values in runs.items():
    print(f"  {name:4s} {statistics.median(v[0] for v in values):9.0f} verifies/s  {statistics.median(v[1] for v in values):6.1f} µs CPU/verify")
for other in ("B", "off"):
    if other in runs:
        pairs = [a[0] / b[0] for a, b in zip(runs["on"], runs[other])]
        print(f"on ÷ {other} verifies/s per round: " + ", ".join(f"{p:.3f}" for p in pairs) + f"; median {statistics.median(pairs):.3f}")
PY
