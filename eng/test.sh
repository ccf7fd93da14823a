#!/usr/bin/env bash
# Runs every test in the solution and ends with one line: "N passed, N failed".
# The Redis tests start their own redis-server on a free loopback port (or use SESSIONKIT_TEST_REDIS=host:port) and
# their own three-master cluster with redis-cli (or use SESSIONKIT_TEST_REDIS_CLUSTER=host:port,...; the reshard test
# still runs redis-cli), so this script installs Debian's redis-server (which brings redis-cli) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_server=true
if [ -n "${SESSIONKIT_TEST_REDIS:-}" ] && [ -n "${SESSIONKIT_TEST_REDIS_CLUSTER:-}" ]; then need_server=false; fi
if ! command -v redis-cli >/dev/null 2>&1 || { [ "$need_server" = true ] && ! command -v redis-server >/dev/null 2>&1; }; then
  echo "redis-server or redis-cli not found: installing redis-server with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# Sums the counters of every trx under a directory into: passed failed skipped.
count_trx() {
  local p=0 f=0 n=0 trx counters
  for trx in "$1"/*.trx; do
    [ -e "$trx" ] || continue
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    p=$((p + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters" | grep . || echo 0)))
    f=$((f + $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters" | grep . || echo 0)))
    f=$((f + $(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters" | grep . || echo 0)))
    n=$((n + $(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters" | grep . || echo 0)))
  done
  echo "$p $f $n"
}

passed=0
failed=0
skipped=0
status=0

# Runs one leg: a name, its results directory, then the dotnet test arguments. Prints "<name>: N passed, N failed".
run_leg() {
  local name="$1" dir="$2" started rc p f n
  shift 2
  mkdir -p "$dir"
  started=$SECONDS
  set +e
  dotnet test "$@" --logger "trx" --logger "console;verbosity=normal" --results-directory "$dir" --blame-hang-timeout 15m
  rc=$?
  set -e
  read -r p f n <<<"$(count_trx "$dir")"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # The build or a test host failed before any test could report a failure.
    f=1
  fi
  if [ "$rc" -ne 0 ]; then status=$rc; fi
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + n))
  echo "$name: $p passed, $f failed ($((SECONDS - started)) s)"
}

run_leg "solution (redis client 2.7.27)" "$results/main" SessionKit.sln -c Release "$@"

# The Redis suite again on the newest 2.x (whole suite over RESP3) and 3.x. Each leg builds into its own artifacts
# path so the legs never overwrite one another's (or the solution's) bin/obj.
if [ "${SESSIONKIT_SKIP_CLIENT_LEGS:-}" != "true" ]; then
  SESSIONKIT_TEST_REDIS_PROTOCOL=resp3 run_leg "redis client 2.13.23 (resp3)" "$results/se2" \
    tests/SessionKit.Redis.Tests -c Release -p:SessionKitRedisClientVersion=2.13.23 --artifacts-path artifacts/legs/se2 "$@"
  run_leg "redis client 3.4.35" "$results/se3" \
    tests/SessionKit.Redis.Tests -c Release -p:SessionKitRedisClientVersion=3.4.35 --artifacts-path artifacts/legs/se3 "$@"
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
