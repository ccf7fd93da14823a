#!/usr/bin/env bash
# A private Docker-compatible endpoint for the Testcontainers path of the Redis test fixture, on machines without
# Docker (this project's CI machine): podman's Docker API service, with its own storage, locks and socket under a
# state directory, and a Redis image imported from the host's own redis-server (no registry is reachable).
#
#   eng/podman-redis.sh up DIR     install what is missing (apt-get), build the image (skipped when it exists), start
#                                  the service, start one container through the CLI; writes DIR/env (DOCKER_HOST,
#                                  TESTCONTAINERS_RYUK_DISABLED, the image, host networking) and exits non-zero when
#                                  any of that fails
#   eng/podman-redis.sh down DIR   remove every container of that service, stop it, delete DIR
#
# Nothing here touches the machine's own podman storage (/var/lib/containers) or another run's DIR. See
# docs/development.md ("The container leg (podman)").
set -euo pipefail
# A failure inside $(...) (the image build) must stop the script too.
shopt -s inherit_errexit

readonly image_repository="localhost/sessionkit-redis"
readonly service_timeout_s=20

die() {
  echo "podman-redis: $*" >&2
  exit 1
}

# Runs podman on this state directory only. An array, not a function, so that `timeout` and `&` run podman itself.
pm=()
set_pm() {
  pm=(env "CONTAINERS_CONF=$state/containers.conf" podman
    --root "$state/storage" --runroot "$state/run" --tmpdir "$state/tmp"
    --cgroup-manager cgroupfs --events-backend file)
}

install_missing() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman netavark)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  command -v ldd >/dev/null 2>&1 || missing+=(libc-bin)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "podman-redis: installing ${missing[*]} with apt-get"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo timeout 300 apt-get update -qq
  # No recommends (buildah, fuse-overlayfs, slirp4netns...): root, native overlay and host networking need none.
  DEBIAN_FRONTEND=noninteractive $sudo timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The image: redis-server and redis-cli from this machine with the libraries ldd lists, and nothing else.
build_image() {
  local version image rootfs binary lib
  version="$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
  [ -n "$version" ] || die "cannot read the redis-server version"
  image="$image_repository:$version"
  if "${pm[@]}" image exists "$image"; then
    echo "$image"
    return 0
  fi

  rootfs="$state/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs/usr/bin" "$rootfs/tmp" "$rootfs/data" "$rootfs/etc"
  chmod 1777 "$rootfs/tmp"
  # redis-server is a symlink to redis-check-rdb and picks its mode from argv[0]: copy the file under the server's name.
  cp -L "$(command -v redis-server)" "$rootfs/usr/bin/redis-server"
  cp -L "$(command -v redis-cli)" "$rootfs/usr/bin/redis-cli"
  for binary in "$rootfs/usr/bin/redis-server" "$rootfs/usr/bin/redis-cli"; do
    for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
      cp -L --parents "$lib" "$rootfs"
    done
  done
  echo "root:x:0:0:root:/data:/bin/false" >"$rootfs/etc/passwd"
  echo "root:x:0:" >"$rootfs/etc/group"
  tar -C "$rootfs" -cf "$state/rootfs.tar" .
  "${pm[@]}" import --quiet \
    --change 'ENV PATH=/usr/bin' --change 'WORKDIR /data' --change 'CMD ["redis-server"]' \
    "$state/rootfs.tar" "$image" >/dev/null
  rm -rf "$rootfs" "$state/rootfs.tar"
  echo "$image"
}

# Podman's default open-files limit (1048576) is above this machine's hard limit (20000), so the runtime cannot apply
# it. runc, not Debian's default crun 1.8: crun refuses this machine's hybrid cgroup layout ("cgroups in hybrid mode
# not supported"). Host networking keeps every connection on loopback (no bridge, no iptables, no 10.88.x addresses).
# File locks keep this service's lock numbers apart from the machine's own podman.
write_conf() {
  cat >"$state/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"

[network]
# Unused with host networking; named so that podman does not look at CNI files another package left behind.
network_backend = "netavark"
EOF
}

up() {
  install_missing
  mkdir -p "$state/storage" "$state/run" "$state/tmp"
  write_conf
  local image socket started
  image="$(build_image)"
  socket="$state/podman.sock"
  started=$SECONDS
  # --time=0: the service never exits on its own; `down` stops it.
  "${pm[@]}" system service --time=0 "unix://$socket" >"$state/service.log" 2>&1 &
  echo $! >"$state/service.pid"
  until curl -fsS --max-time 1 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$state/service.pid")" 2>/dev/null; then
      cat "$state/service.log" >&2
      die "podman system service exited"
    fi
    if [ $((SECONDS - started)) -ge "$service_timeout_s" ]; then
      cat "$state/service.log" >&2
      die "podman system service did not answer /_ping within ${service_timeout_s} s"
    fi
    sleep 0.2
  done
  # One container through the CLI first: a runtime or kernel that cannot start containers is the machine's problem,
  # which the caller can tell apart from a failure of the tests.
  if ! timeout 60 "${pm[@]}" run --rm --pull never --network host "$image" redis-server --version >"$state/smoke.log" 2>&1; then
    cat "$state/smoke.log" >&2
    die "podman cannot start a container on this machine"
  fi
  cat >"$state/env" <<EOF
DOCKER_HOST=unix://$socket
TESTCONTAINERS_RYUK_DISABLED=true
SESSIONKIT_TEST_REDIS_IMAGE=$image
SESSIONKIT_TEST_REDIS_CONTAINER_NETWORK=host
EOF
  echo "podman-redis: $(podman --version), image $image, service answering on $socket"
}

down() {
  [ -d "$state" ] || return 0
  if [ -f "$state/storage/libpod/bolt_state.db" ]; then
    "${pm[@]}" rm --force --all --time 0 >/dev/null 2>&1 || true
  fi
  if [ -f "$state/service.pid" ]; then
    local pid
    pid="$(cat "$state/service.pid")"
    # Only the service this DIR started (a recycled pid is left alone); a zombie counts as gone.
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "unix://$state/podman.sock"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        case "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" in "" | Z) break ;; esac
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  # A container that could not be removed may leave an overlay mount behind: unmount before deleting.
  local mount
  for mount in $(awk -v dir="$state/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$mount" 2>/dev/null || true
  done
  rm -rf "$state"
}

[ $# -eq 2 ] || die "usage: $0 up|down DIR"
case "$2" in
  /*) state="$2" ;;
  *) state="$PWD/$2" ;;
esac
set_pm
case "$1" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down DIR" ;;
esac
