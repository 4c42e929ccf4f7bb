#!/usr/bin/env bash
# The components of a worker's join, each started on its own and timed from its start to its own
# readiness, one after another, for tests/bench/join's `join_vs_components_ratio`: what the node
# costs when nothing is overlapped and nothing is waited for beyond each component's own start.
# The steps are worker.sh's (the same plan, the same argv, images, mounts and files), with tight
# polls (every 10 ms, over curl on the daemon's socket: no docker CLI start-up in the figure)
# instead of docker-multinode's once a second. It is not part of the agent.
#
# Prints one line per component on stdout, "COMPONENT SECONDS":
#   bootstrap_docker    dockerd started → _ping answers
#   flannel_image       flannel's tarball loaded into the bootstrap daemon
#   flannel             its container run → subnet.env there
#   main_docker         dockerd started → _ping answers
#   kubelet_image       the tarball holding the kubelet's image loaded into the main daemon
#   other_images        every other airgap tarball loaded into it, one after another, but those of
#                       the bootstrap daemon's images (as the agent leaves them: `elsewhere` in
#                       main-docker's load step)
#   kubelet             its container run → the API server lists the node Ready
# then starts kube-proxy (not timed: the node is Ready without it) so that turndown.sh finds the
# whole node.
#
# Usage: components.sh AGENT_BINARY CONFIG API_URL NODE_NAME
#   (root, inside the node's network namespace, like worker.sh; API_URL as http://IP:8080)
# Undo: turndown.sh AGENT_BINARY CONFIG
set -euo pipefail

status() { printf '+++ [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
fatal() { printf '!!! [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; exit 1; }

[ $# -eq 4 ] || fatal "usage: components.sh AGENT_BINARY CONFIG API_URL NODE_NAME"
agent=$1 config=$2 api=$3 node=$4
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/baseline/plan.sh
. "$here/plan.sh"
node_script_setup "$agent" "$config"

started=
begin() { started=$EPOCHREALTIME; }
took() { awk -v a="$started" -v b="$EPOCHREALTIME" -v n="$1" 'BEGIN { printf "%s %.3f\n", n, b - a }'; }

status "bootstrap dockerd"
mkdir -p "$(dirname "$PLAN_BOOTSTRAP_SOCK")"
write_files PLAN_BOOTSTRAP_FILES
begin
start_process PLAN_BOOTSTRAP_ENV PLAN_BOOTSTRAP_ARGV "$(dirname "$PLAN_BOOTSTRAP_SOCK")/dockerd.log"
until_answers "the bootstrap dockerd" "$PLAN_BOOTSTRAP_SOCK"
took bootstrap_docker

status "flannel's image"
tarball=$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_FLANNEL_IMAGE")
begin
docker -H "unix://$PLAN_BOOTSTRAP_SOCK" load -q -i "$tarball" >/dev/null
took flannel_image

status "flannel"
write_files PLAN_FLANNEL_FILES
begin
docker "${PLAN_FLANNEL_RUN[@]}" >/dev/null
until_true "flannel's subnet.env" test -f "$PLAN_SUBNET_ENV"
took flannel
# shellcheck disable=SC1090
. "$PLAN_SUBNET_ENV"

status "main dockerd"
prepare_main_docker "$FLANNEL_SUBNET" "$FLANNEL_MTU"
begin
start_process PLAN_MAIN_ENV main_argv "$(dirname "$PLAN_MAIN_SOCK")/dockerd.log"
until_answers "the main dockerd" "$PLAN_MAIN_SOCK"
took main_docker

status "the kubelet's image into the main dockerd"
kubelet_tarball=$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_KUBELET_IMAGE")
begin
docker -H "unix://$PLAN_MAIN_SOCK" load -q -i "$kubelet_tarball" >/dev/null
took kubelet_image

status "the other airgap images into the main dockerd"
# The test images are a tarball each: the one naming a bootstrap image holds nothing else.
skip=("$kubelet_tarball")
for image in "${PLAN_MAIN_ELSEWHERE[@]}"; do
  skip+=("$(image_tarball "$PLAN_IMAGE_DIR" "$image" 2>/dev/null)") || true
done
begin
for tarball in "$PLAN_IMAGE_DIR"/*.tar; do
  [[ " ${skip[*]} " == *" $tarball "* ]] || docker -H "unix://$PLAN_MAIN_SOCK" load -q -i "$tarball" >/dev/null
done
took other_images

status "the kubelet"
prepare_kubelet
begin
docker "${PLAN_KUBELET_RUN[@]}" >/dev/null
until_node_ready "$api" "$node"
took kubelet

status "kube-proxy (not timed)"
write_files PLAN_PROXY_FILES
docker "${PLAN_PROXY_RUN[@]}" >/dev/null
