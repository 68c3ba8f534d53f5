#!/usr/bin/env bash
# Constant-time proof: runs the window checks and resync searches of a release build under valgrind
# memcheck with every secret byte and candidate code marked undefined. Any branch or memory index
# that depends on them is an error. Then the negative control (a deliberately leaky compare) must be
# flagged by the same check, proving it can fail.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product ct-harness >/dev/null
harness="$(swift build -c release --show-bin-path)/ct-harness"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "ct-check: window checks and resync searches (SHA-1, SHA-256, SHA-512) under valgrind memcheck"
if ! valgrind --tool=memcheck --error-exitcode=1 "$harness" >"$log" 2>&1; then
  cat "$log"
  echo "ct-check: FAILED: secret-dependent branches or memory accesses (see above)"
  exit 1
fi
grep -q "ERROR SUMMARY: 0 errors" "$log" || { cat "$log"; echo "ct-check: FAILED: no clean error summary"; exit 1; }
grep "ct-harness:" "$log"
echo "ct-check: 0 errors"

echo "ct-check: negative control (leaky early-exit compare) must be flagged"
if valgrind --tool=memcheck --error-exitcode=1 "$harness" --leaky-control >"$log" 2>&1; then
  cat "$log"
  echo "ct-check: FAILED: the leaky control was not flagged, so the check proves nothing"
  exit 1
fi
grep -q "Conditional jump or move depends on uninitialised value" "$log" || { cat "$log"; echo "ct-check: FAILED: control failed for another reason"; exit 1; }
echo "ct-check: negative control flagged ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log"))"
echo "ct-check: passed"
