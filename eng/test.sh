#!/usr/bin/env bash
# Runs every test in the solution and ends with one line: "N passed, N failed".
# The Redis tests start their own redis-server on a free loopback port (or use SESSIONKIT_TEST_REDIS=host:port),
# so this script installs Debian's redis-server when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SESSIONKIT_TEST_REDIS:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

set +e
dotnet test SessionKit.sln -c Release \
  --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" \
  --blame-hang-timeout 15m \
  "$@"
status=$?
set -e

passed=0
failed=0
skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  e="$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")"
  n="$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${n:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before any test could report a failure.
  failed=1
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
