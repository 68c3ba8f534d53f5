#!/usr/bin/env bash
# The project's test command: builds, runs the constant-time proof, then the whole Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/start-pcscd.sh
swift build --build-tests
scripts/ct-check.sh
swift test --skip-build
