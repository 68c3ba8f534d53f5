#!/usr/bin/env bash
# The project's test command: builds, runs the constant-time proof, then the whole Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole suite, always: the developers' fast unit set (MFA_UNIT_ONLY) is never what this runs.
unset MFA_UNIT_ONLY
scripts/setup.sh
scripts/start-pcscd.sh
# The PostgreSQL conformance suite never skips: it needs this URL (a fresh schema per test).
MFA_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"
export MFA_TEST_POSTGRES_URL
case "$MFA_TEST_POSTGRES_URL" in
  postgres://*[!$'\n']) ;;
  *) echo "test.sh: start-postgres.sh printed no single PostgreSQL URL: '$MFA_TEST_POSTGRES_URL'" >&2; exit 1 ;;
esac
# PostgreSQL over TLS (ssl = on, a fresh self-signed certificate, a role let in over TLS only).
MFA_TEST_POSTGRES_TLS_URL="$(scripts/start-postgres-tls.sh)"
export MFA_TEST_POSTGRES_TLS_URL
swift build --build-tests
scripts/ct-check.sh
# CI shows only the end of the output: on failure, repeat each recorded issue there.
log="$(mktemp -t mfa-test-XXXXXX.log)"
if ! swift test --skip-build 2>&1 | tee "$log"; then
  echo "=== test failures (details) ==="
  grep -A4 -E "recorded an issue|error: -\[|: error:" "$log" | head -150 || true
  echo "=== PostgreSQL log (tail) ==="
  tail -15 /var/log/postgresql/postgresql-*-main.log 2>/dev/null || true
  exit 1
fi
# The server's suites again with the verify fast path off (MFA_NO_FAST_PATH is `serve --no-fast-path`,
# an operator's switch): both ways of answering pass the same tests. The suites that count fast-path
# answers, or print where settings came from, are the ones left out.
server_suites="ServiceEndToEndTests|ConnectionLimitsTests|TunnelTests|ServeShutdownTests|APIDetailsTests|HostileNumbersTests"
server_suites+="|InternalDetailTests|RemotePathTests|ServiceResilienceTests|ImportProgressTests|TokensImportTests|AuditListTests"
if ! MFA_NO_FAST_PATH=1 swift test --skip-build --filter "$server_suites" 2>&1 | tee "$log"; then
  echo "=== test failures with the fast path off (details) ==="
  grep -A4 -E "recorded an issue|error: -\[|: error:" "$log" | head -150 || true
  exit 1
fi
# Every parser of hostile input under libFuzzer for a short budget (scripts/fuzz.sh; longer by hand).
scripts/fuzz.sh --seconds "${MFA_FUZZ_SECONDS:-15}"
# The live API against its OpenAPI document (schemathesis).
scripts/api-conformance.sh --mfactl "$(swift build --show-bin-path)/mfactl"
