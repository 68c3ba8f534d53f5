#!/usr/bin/env bash
# The project's test command: builds, runs the constant-time proof, then the whole Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/start-pcscd.sh
# The PostgreSQL conformance suite never skips: it needs this URL (a fresh schema per test).
MFA_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"
export MFA_TEST_POSTGRES_URL
swift build --build-tests
scripts/ct-check.sh
swift test --skip-build
