#!/usr/bin/env bash
# Fuzzes every parser of hostile input with libFuzzer, each for a bounded time:
#   scripts/fuzz.sh [--seconds N] [--target NAME]...
# Targets: scanner verify-json pskc csv otpauth codecs apdu hid (Sources/mfa-fuzz). Each starts from
# its committed corpus in Tests/Fixtures/fuzz/NAME (read only: new inputs go to a temporary copy) and
# stops by itself after N seconds (default 30). A broken property or a crash stops the run with the
# reproducer's path: commit it under Tests/Fixtures/fuzz/crashes/NAME/, where the test suite replays
# it (FuzzCorpusTests), and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [--target NAME]..." >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(scanner verify-json pskc csv otpauth codecs apdu hid)
case "$seconds" in ''|*[!0-9]*) echo "fuzz: --seconds takes a whole number" >&2; exit 2 ;; esac

flags=(--product mfa-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DMFA_FUZZ --scratch-path .build-fuzz)
echo "fuzz: building mfa-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
swift build "${flags[@]}"
bin="$(swift build "${flags[@]}" --show-bin-path)/mfa-fuzz"
artifacts="$(mktemp -d -t mfa-fuzz-artifacts-XXXXXX)"
status=0
for target in "${targets[@]}"; do
  corpus="Tests/Fixtures/fuzz/$target"
  [ -d "$corpus" ] || { echo "fuzz: no corpus directory $corpus" >&2; exit 2; }
  work="$(mktemp -d -t "mfa-fuzz-$target-XXXXXX")"
  echo "fuzz: $target for ${seconds}s (corpus $corpus, $(ls "$corpus" | wc -l) inputs)"
  if ! MFA_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$artifacts/$target-" -print_final_stats=1 "$work" "$corpus" > "$artifacts/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; reproducer(s):" >&2
    ls "$artifacts" | grep "^$target-" | sed "s|^|  $artifacts/|" >&2 || true
    grep -E "Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|SUMMARY" "$artifacts/$target.log" | head -5 >&2 || true
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$artifacts/$target.log" | tr '\n' ' ' | sed "s/^/fuzz: $target ok: /"; echo
  fi
  rm -rf "$work"
done
exit "$status"
