#!/usr/bin/env bash
# An image that is not present, not in the airgap folder and cannot be pulled (no registry here):
# a clear error in status, retries with backoff, and the agent keeps serving and stops cleanly.
# Usage: missing_image.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
skip_unless_root
trap cleanup EXIT

make_node lonely 192.168.241.2
node_config lonely master 192.168.241.2 ', "kubelet": {"enabled": false},
  "kube-proxy": {"enabled": false}, "flannel": {"enabled": false},
  "main-docker": {"enabled": false}'
cfg=$NODE_CFG
# Point etcd at an image nobody has.
sed -i 's|"etcd": {"image": "kna-test/etcd:3.4"}|"etcd": {"image": "kna-test/absent:1"}|' "$cfg"
start_agent "$NODE_NS" "$cfg"

wait_for 60 "bootstrap-docker ready" stage_is "$cfg" bootstrap-docker ready
retried() { [ "$(stage_field "$cfg" etcd restarts)" -ge 2 ] 2>/dev/null; }
wait_for 60 "etcd is retried with backoff" retried
err=$(stage_field "$cfg" etcd last_error)
check "the error names the image and where it looked ($err)" \
  bash -c "grep -q 'kna-test/absent:1' <<<\"\$1\" && grep -q 'not present' <<<\"\$1\"" _ "$err"
# (not a pipe into grep -q: with pipefail, the writer's SIGPIPE would fail it)
retry_scheduled() { [[ "$(stage_field "$cfg" etcd next_retry)" == 20* ]]; }
wait_for 60 "a next retry is scheduled and shown" retry_scheduled
check "the agent still answers status" stage_is "$cfg" bootstrap-docker ready
check "SIGTERM stops the agent with exit 0" stop_agents
finish
