#!/usr/bin/env bash
# The device image, built here without a registry (scripts/device-image) from the cross-built
# agent, run as a device runs it but under qemu-user: `version`, `plan` with the seed's options
# for ARCH=arm (and with ARCH left to uname -m), and `check`. The container is not privileged:
# this sandbox cannot start privileged containers, and none of these commands needs it.
#   tests/arm/device_image.sh armhf|arm64 AGENT_BINARY
set -uo pipefail
arch=$1 agent=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (a private dockerd and binfmt_misc)"; exit 77; }
# shellcheck source=scripts/lib/arm.sh
source "$top/scripts/lib/arm.sh"
arm_arch "$arch" || exit 1
why=$(arm_binfmt "$arch") || { echo "SKIP: $why"; exit 77; }
for tool in dockerd mmdebstrap "$TRIPLET-strip"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/cross $arch installs it)"; exit 1; }
done

failed=0 passed=0
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { passed=$((passed + 1)); log "PASS: $*"; }
fail() { failed=$((failed + 1)); log "FAIL: $*"; }
# expect "what" OUTPUT PATTERN: the output holds a line matching the extended regex
expect() {
  if grep -qE -- "$3" <<<"$2"; then pass "$1"; else fail "$1: no line matches /$3/ in:"; sed 's/^/    /' <<<"$2"; fi
}

work=$(mktemp -d /tmp/kna-arm-XXXXXX)
cleanup() {
  arm_stop_dockerd "$work"
  rm -rf "$work"
}
trap cleanup EXIT

# The private daemon scripts/device-image would start, kept up here to run the image afterwards.
arm_start_dockerd "$work" || { echo "FAIL: cannot start a private dockerd"; exit 1; }
docker=("$DOCKER_CLI" -H "$DOCKER_HOST_URL")

"$TRIPLET-strip" -o "$work/kube-node-agent" "$agent"
tag=kna-test/device:$arch
log "building $tag with scripts/device-image"
if "$top/scripts/device-image" "$arch" --binary "$work/kube-node-agent" \
     --host "$DOCKER_HOST_URL" --tag "$tag" >"$work/build.log" 2>&1; then
  pass "scripts/device-image $arch built $tag"
  grep '^device-image:' "$work/build.log"
else
  fail "scripts/device-image $arch"; tail -40 "$work/build.log"; exit 1
fi

platform=$("${docker[@]}" image inspect -f '{{.Os}}/{{.Architecture}}' "$tag")
expect "the image is for ${PLATFORM%/v7}" "$platform" "^${PLATFORM%/v7}\$"

run() { "${docker[@]}" run --rm --net=host --platform "$PLATFORM" "$@" 2>&1; }

out=$(run --entrypoint uname "$tag" -m)
expect "the container runs under emulation as $PROCESSOR" "$out" "^$PROCESSOR\$"

out=$(run "$tag" version)
expect "kube-node-agent version runs in the image" "$out" '^kube-node-agent [0-9]+\.[0-9]+\.[0-9]+'

# The seed's options (docker-multinode): MASTER_IP, K8S_VERSION, ETCD_VERSION, FLANNEL_VERSION, ARCH.
seed=(-e MASTER_IP=10.0.0.1 -e K8S_VERSION=v1.3.6 -e ETCD_VERSION=2.2.5 -e FLANNEL_VERSION=0.5.5)
want_arch=$([ "$arch" = armhf ] && echo arm || echo arm64)
for how in "ARCH=$want_arch" "uname -m"; do
  env_arch=()
  [ "$how" = "uname -m" ] || env_arch=(-e "ARCH=$want_arch")
  out=$(run "${seed[@]}" "${env_arch[@]}" -e KNA_ROLE=master "$tag" plan)
  expect "plan ($how): the kubelet runs hyperkube-$want_arch" "$out" "image: +gcr.io/google_containers/hyperkube-$want_arch:v1.3.6"
  expect "plan ($how): etcd-$want_arch" "$out" "image: +gcr.io/google_containers/etcd-$want_arch:2.2.5"
  expect "plan ($how): flannel 0.5.5-$want_arch" "$out" "image: +quay.io/coreos/flannel:0.5.5-$want_arch"
done

out=$(run "${seed[@]}" -e KNA_ROLE=worker "$tag" check)
rc=$?
log "check in the container (exit $rc):"
sed 's/^/    /' <<<"$out"
expect "check finds the image's dockerd" "$out" '^binary main-docker +ok +dockerd → /usr/s?bin/dockerd'
expect "check finds the image's containerd" "$out" '^binary containerd +ok'
expect "check finds the image's runc" "$out" '^binary runc +ok'
expect "iptables works in the image (legacy tables)" "$out" '^iptables +ok .*legacy'
expect "check ends with its summary" "$out" '^[0-9]+ ok, [0-9]+ warn, [0-9]+ FAIL, [0-9]+ skipped'
# 0: nothing failed; 1: something failed (an unprivileged container may lack a module). Anything
# else (a crash under emulation, a library missing) is a failure.
if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then pass "check exits 0 or 1 ($rc)"; else fail "check exited $rc"; fi

size=$("${docker[@]}" image inspect -f '{{.Size}}' "$tag")
log "image $tag: $size bytes ($(( size / 1048576 )) MiB)"
# --no-prune keeps the layers under it (the package layer above all) for the next build
"${docker[@]}" rmi --no-prune "$tag" >/dev/null 2>&1
log "$passed passed, $failed failed"
[ $failed -eq 0 ]
