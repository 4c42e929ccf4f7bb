#!/usr/bin/env bash
# A worker's join with the main daemon's image load taken off the critical path, for
# tests/bench/join's `preload` side (KNA_BENCH_JOIN_PRELOAD=1): what the agent could reach by
# starting the main dockerd early, before flannel's subnet is known, only to load the kubelet's
# image. It is a measurement of that design before the agent has it, not part of the agent.
#
# The steps are components.sh's (the same plan, argv, images, mounts and files, polls every 10 ms),
# but two chains run side by side from the start:
#   - the bootstrap dockerd, flannel's tarball loaded into it, flannel run until subnet.env;
#   - the main dockerd with no bridge (--bridge=none: its --bip is not known yet), the kubelet's
#     tarball loaded into it, then that dockerd stopped (SIGTERM, its exit waited for);
# then, once both are done, the main dockerd started for good with --bip/--mtu over the same data
# root (the image is there already), and the kubelet run until the API server lists the node
# Ready. The rest of the folder's tarballs are not loaded (the agent loads them behind the
# kubelet). Then kube-proxy is started (not timed) so that turndown.sh finds the whole node.
#
# Prints "COMPONENT SECONDS" lines on stdout, each from the common start: bootstrap_chain (subnet.env
# there), preload_chain (the early dockerd stopped, the image in its data root), main_docker (the
# dockerd's second start answering), joined (the node Ready); and preload_stop, how long the early
# dockerd took to exit.
#
# Usage: preload.sh AGENT_BINARY CONFIG API_URL NODE_NAME
#   (root, inside the node's network namespace, like components.sh)
# Undo: turndown.sh AGENT_BINARY CONFIG
set -euo pipefail

status() { printf '+++ [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
fatal() { printf '!!! [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; exit 1; }

[ $# -eq 4 ] || fatal "usage: preload.sh AGENT_BINARY CONFIG API_URL NODE_NAME"
agent=$1 config=$2 api=$3 node=$4
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/baseline/plan.sh
. "$here/plan.sh"
node_script_setup "$agent" "$config"
since() { awk -v a="$start" -v b="$EPOCHREALTIME" -v n="$1" 'BEGIN { printf "%s %.3f\n", n, b - a }'; }

mkdir -p "$(dirname "$PLAN_BOOTSTRAP_SOCK")" "$(dirname "$PLAN_MAIN_SOCK")"
write_files PLAN_BOOTSTRAP_FILES
write_files PLAN_FLANNEL_FILES
write_files PLAN_MAIN_FILES
# The early main dockerd: the plan's argv without flannel's values, and no bridge.
early_argv=()
for arg in "${PLAN_MAIN_ARGV[@]}"; do
  case $arg in --bip=* | --mtu=*) ;; *) early_argv+=("$arg") ;; esac
done
early_argv+=(--bridge=none)
flannel_tarball=$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_FLANNEL_IMAGE")
kubelet_tarball=$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_KUBELET_IMAGE")
out=$(mktemp)
trap 'rm -f "$out"' EXIT

start=$EPOCHREALTIME
status "both chains"
(
  start_process PLAN_BOOTSTRAP_ENV PLAN_BOOTSTRAP_ARGV "$(dirname "$PLAN_BOOTSTRAP_SOCK")/dockerd.log"
  until_answers "the bootstrap dockerd" "$PLAN_BOOTSTRAP_SOCK"
  docker -H "unix://$PLAN_BOOTSTRAP_SOCK" load -q -i "$flannel_tarball" >/dev/null
  docker "${PLAN_FLANNEL_RUN[@]}" >/dev/null
  until_true "flannel's subnet.env" test -f "$PLAN_SUBNET_ENV"
  since bootstrap_chain >>"$out"
) &
bootstrap_chain=$!
(
  start_process PLAN_MAIN_ENV early_argv "$(dirname "$PLAN_MAIN_SOCK")/dockerd-early.log"
  until_answers "the early main dockerd" "$PLAN_MAIN_SOCK"
  docker -H "unix://$PLAN_MAIN_SOCK" load -q -i "$kubelet_tarball" >/dev/null
  pid=$(cat "$PLAN_MAIN_PIDFILE")
  stop_start=$EPOCHREALTIME
  kill -TERM "$pid"
  until_true "the early main dockerd's exit" test ! -e "/proc/$pid"
  awk -v a="$stop_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "preload_stop %.3f\n", b - a }' >>"$out"
  since preload_chain >>"$out"
) &
preload_chain=$!
wait "$bootstrap_chain" || fatal "the bootstrap chain failed"
wait "$preload_chain" || fatal "the preload chain failed"

# shellcheck disable=SC1090
. "$PLAN_SUBNET_ENV"
prepare_main_docker "$FLANNEL_SUBNET" "$FLANNEL_MTU"
status "main dockerd, for good"
start_process PLAN_MAIN_ENV main_argv "$(dirname "$PLAN_MAIN_SOCK")/dockerd.log"
until_answers "the main dockerd" "$PLAN_MAIN_SOCK"
since main_docker >>"$out"

status "the kubelet"
run_kubelet
until_node_ready "$api" "$node"
since joined >>"$out"
cat "$out"

status "kube-proxy (not timed)"
write_files PLAN_PROXY_FILES
docker -H "unix://$PLAN_MAIN_SOCK" image inspect "$PLAN_PROXY_IMAGE" >/dev/null 2>&1 ||
  docker -H "unix://$PLAN_MAIN_SOCK" load -q -i "$(image_tarball "$PLAN_IMAGE_DIR" "$PLAN_PROXY_IMAGE")" >/dev/null
docker "${PLAN_PROXY_RUN[@]}" >/dev/null
