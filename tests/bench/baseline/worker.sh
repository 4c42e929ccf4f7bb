#!/usr/bin/env bash
# A worker node brought up the way docker-multinode's worker.sh did it in 2016 (kubernetes/kube-deploy,
# docker-multinode/worker.sh with common.sh and docker-bootstrap.sh), written for tests/bench/join as
# the baseline the agent's join time is measured against; it is not part of the agent. One
# sequential script: a bootstrap dockerd in the background, `docker ps` once a second until it
# answers; flannel in it, subnet.env looked for once a second; docker0 deleted; the main dockerd on
# flannel's subnet, again `docker ps` once a second; the kubelet and kube-proxy containers; exit.
# docker-multinode's script ended there too: the node turns Ready afterwards, on its own.
#
# Every argv, image, mount, label and file comes from `kube-node-agent plan -o json --config CONFIG`
# instead of being typed here, so that this script and the agent run identical components with
# identical flags, and the bench compares only how they are started. What differs from 2016 is the
# offline equivalent of the same step: images are `docker load`ed from the airgap folder
# (paths.image_dir) where docker-multinode let `docker run` pull them, and the main dockerd is
# started from the plan's argv where docker-multinode restarted the system's docker service.
#
# Usage: worker.sh AGENT_BINARY CONFIG   (root, inside the node's network namespace: it deletes
#        that namespace's docker0, as docker-multinode deleted the host's)
# Undo: turndown.sh AGENT_BINARY CONFIG
set -euo pipefail

# docker-multinode's TIMEOUT_FOR_SERVICES: polls (one a second) before giving up on a daemon.
readonly kTimeoutForServices=20

# docker-multinode's log format, with milliseconds for the bench's timeline.
status() { printf '+++ [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
fatal() { printf '!!! [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; exit 1; }

[ $# -eq 2 ] || fatal "usage: worker.sh AGENT_BINARY CONFIG"
agent=$1
config=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/baseline/plan.sh
. "$here/plan.sh"
node_script_setup "$agent" "$config"

# wait_for_docker SOCKET WHAT: docker-multinode's loop, `docker ps` then sleep 1.
wait_for_docker() {
  local polls=0
  while ! docker -H "unix://$1" ps >/dev/null 2>&1; do
    polls=$((polls + 1))
    [ $polls -lt $kTimeoutForServices ] || fatal "$2 failed to start. Exiting..."
    sleep 1
  done
}

status "Launching the bootstrap docker daemon"
mkdir -p "$(dirname "$PLAN_BOOTSTRAP_SOCK")"
write_files PLAN_BOOTSTRAP_FILES
start_process PLAN_BOOTSTRAP_ENV PLAN_BOOTSTRAP_ARGV "$(dirname "$PLAN_BOOTSTRAP_SOCK")/dockerd.log"
wait_for_docker "$PLAN_BOOTSTRAP_SOCK" "docker bootstrap"

status "Launching flannel"
# `docker run` pulled the image in 2016; loading it is the offline equivalent.
docker -H "unix://$PLAN_BOOTSTRAP_SOCK" load -q \
  -i "$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_FLANNEL_IMAGE")" >/dev/null
write_files PLAN_FLANNEL_FILES
docker "${PLAN_FLANNEL_RUN[@]}" >/dev/null
polls=0
while [ ! -f "$PLAN_SUBNET_ENV" ]; do
  polls=$((polls + 1))
  [ $polls -lt $kTimeoutForServices ] || fatal "flannel failed to start. Exiting..."
  sleep 1
done
# shellcheck disable=SC1090
. "$PLAN_SUBNET_ENV"

status "Restarting main docker with flannel's subnet $FLANNEL_SUBNET, mtu $FLANNEL_MTU"
# dockerd keeps an existing docker0 as it is: it must go for --bip to apply.
prepare_main_docker "$FLANNEL_SUBNET" "$FLANNEL_MTU"
start_process PLAN_MAIN_ENV main_argv "$(dirname "$PLAN_MAIN_SOCK")/dockerd.log"
wait_for_docker "$PLAN_MAIN_SOCK" "main docker"

# The kubelet cannot pull either: every airgap image goes into the main daemon, as the agent does.
status "Loading the airgap images into main docker"
for tarball in "$PLAN_IMAGE_DIR"/*.tar; do
  docker -H "unix://$PLAN_MAIN_SOCK" load -q -i "$tarball" >/dev/null
done

status "Launching the kubelet"
run_kubelet

status "Launching kube-proxy"
write_files PLAN_PROXY_FILES
docker "${PLAN_PROXY_RUN[@]}" >/dev/null

status "Done. After about a minute the node should be ready."
