# Shared by the agent's integration and end-to-end scripts: sandboxed nodes in network
# namespaces, an agent per node, and small assertions. Source it; needs root.
# Every path lives under $KNA_T (a fresh temporary folder); cleanup removes everything it made.

set -uo pipefail

: "${KNA_AGENT:?set KNA_AGENT to the kube-node-agent binary}"
KNA_T=$(mktemp -d /tmp/kna-it-XXXXXX)
KNA_NETNS=()
KNA_AGENT_PIDS=()
KNA_FAILED=0
# Privileged containers need every capability; a sandbox without them (CapBnd short of the
# kernel's full set) cannot start one, and the stand-ins do not need it.
KNA_PRIVILEGED=true
if [ "$(grep CapBnd /proc/self/status | awk '{print $2}')" != "$(printf '%016x' $(( (1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1 )))" ]; then
  KNA_PRIVILEGED=false
fi
KNA_PASSED=0

log() { printf '%s %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*"; }
pass() { KNA_PASSED=$((KNA_PASSED + 1)); log "PASS: $*"; }
fail() { KNA_FAILED=$((KNA_FAILED + 1)); log "FAIL: $*"; }
check() {  # check "what" command... : passes when the command succeeds
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# wait_for SECONDS "what" command... : polls every 0.2 s (real daemons only; unit tests never poll)
wait_for() {
  local secs=$1 what=$2
  shift 2
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    if "$@" >/dev/null 2>&1; then pass "$what"; return 0; fi
    sleep 0.2
  done
  fail "$what (not within ${secs}s)"
  return 1
}

# A scenario that cannot run here says why and exits 77, which ctest reports as skipped
# (SKIP_RETURN_CODE), never as passed.
skip_unless_root() {
  if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces, private dockerds)"; exit 77; fi
  local tool
  for tool in dockerd docker ip nsenter etcdctl; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps --runtime)"; exit 1; }
  done
}

# These set globals (NODE_NS, NODE_CFG, AGENT_PID) rather than print them: a $(…) subshell would
# lose what they record for cleanup.

# make_hub → KNA_HUB: a namespace holding the bridge br0 that joins the nodes made after it, so
# that a cluster on one machine never touches the host's own network.
KNA_HUB=
make_hub() {
  KNA_HUB="kna-hub-$$"
  ip netns add "$KNA_HUB"
  KNA_NETNS+=("$KNA_HUB")
  ip -n "$KNA_HUB" link set lo up
  ip -n "$KNA_HUB" link add br0 type bridge
  ip -n "$KNA_HUB" link set br0 up
}

# make_node NAME ADDRESS → NODE_NS: a network namespace with lo and eth0 holding ADDRESS/24, and no
# default route: nothing the node sends can leave it, and an attempt to reach the outside (an
# image pull) fails at once instead of timing out. eth0 is one end of a veth pair; the other end
# is a port of the hub's bridge when there is a hub (make_hub), else it stays in the node's own
# namespace (the dummy link type is not in every kernel).
make_node() {
  local ns="kna-$1-$$"
  ip netns add "$ns"
  KNA_NETNS+=("$ns")
  ip -n "$ns" link set lo up
  if [ -n "$KNA_HUB" ]; then
    ip -n "$ns" link add eth0 type veth peer name "v-$1" netns "$KNA_HUB"
    ip -n "$KNA_HUB" link set "v-$1" master br0
    ip -n "$KNA_HUB" link set "v-$1" up
  else
    ip -n "$ns" link add eth0 type veth peer name eth0-peer
    ip -n "$ns" link set eth0-peer up
  fi
  ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" link set eth0 up
  NODE_NS=$ns
}

in_node() {  # in_node NS command...
  local ns=$1
  shift
  nsenter --net="/var/run/netns/$ns" "$@"
}

# node_config NAME ROLE MASTER_IP [STAGES_JSON] → NODE_CFG: writes $KNA_T/NAME/config.json with every path
# under $KNA_T/NAME and the test images; STAGES_JSON adds entries to "stages" (a fragment with a
# leading comma, e.g. ', "kubelet": {"enabled": false}') in place of the kubelet and kube-proxy
# entries (the hyperkube stand-in image), so it must bring its own when it wants them.
KNA_KUBE_IMAGE=kna-test/hyperkube:standin
node_config() {
  local name=$1 role=$2 master=$3
  local kube_stage="\"image\": \"$KNA_KUBE_IMAGE\", \"privileged\": $KNA_PRIVILEGED"
  local extra=${4:-", \"kubelet\": {$kube_stage}, \"kube-proxy\": {$kube_stage}"}
  local d="$KNA_T/$name"
  mkdir -p "$d/images"
  cp "$KNA_IMAGES"/*.tar "$d/images/"
  cat >"$d/config.json" <<JSON
{
  "role": "$role",
  "node_name": "$name",
  "master_ip": "$master",
  "net_interface": "eth0",
  "etcd_version": "3.4.23",
  "control_plane": {
    "apiserver_image": "$KNA_KUBE_IMAGE",
    "controller_manager_image": "$KNA_KUBE_IMAGE",
    "scheduler_image": "$KNA_KUBE_IMAGE"
  },
  "paths": {
    "bootstrap_docker_socket": "$d/bootstrap/docker.sock",
    "bootstrap_docker_data_root": "$d/bootstrap/data",
    "bootstrap_docker_exec_root": "$d/bootstrap/exec",
    "bootstrap_docker_pidfile": "$d/bootstrap/docker.pid",
    "main_docker_socket": "$d/main/docker.sock",
    "main_docker_data_root": "$d/main/data",
    "main_docker_exec_root": "$d/main/exec",
    "main_docker_pidfile": "$d/main/docker.pid",
    "cri_dockerd_socket": "$d/cri-dockerd.sock",
    "flannel_run_dir": "$d/flannel",
    "etcd_data_dir": "$d/etcd",
    "kubelet_dir": "$d/kubelet",
    "kubelet_manifests_dir": "$d/manifests",
    "container_logs_dir": "$d/containers",
    "state_dir": "$d/state",
    "run_dir": "$d/run",
    "image_dir": "$d/images",
    "kubeconfig": "$d/state/kubeconfig"
  },
  "stages": {
    "etcd": {"image": "kna-test/etcd:3.4"},
    "flannel": {"image": "kna-test/flannel:standin", "privileged": $KNA_PRIVILEGED}$extra
  }
}
JSON
  NODE_CFG="$d/config.json"
}

# start_agent NS CONFIG → AGENT_PID: runs the agent in the node's namespace; its log goes to CONFIG's folder.
start_agent() {
  local ns=$1 config=$2
  local d
  d=$(dirname "$config")
  # nsenter execs the agent in place, so $! is the agent itself (a backgrounded function would be
  # a subshell that SIGTERM cannot reach through).
  nsenter --net="/var/run/netns/$ns" "$KNA_AGENT" run --config "$config" >>"$d/agent.log" 2>&1 &
  AGENT_PID=$!
  KNA_AGENT_PIDS+=("$AGENT_PID")
}

status_of() {  # status_of CONFIG STAGE → prints the stage's state
  "$KNA_AGENT" status --config "$1" --stage "$2" 2>/dev/null | awk '{print $2}'
}
stage_is() { [ "$(status_of "$1" "$2")" = "$3" ]; }
stage_is_not() { ! stage_is "$@"; }
# link_has NS LINK CIDR: the link in the node's namespace carries the address
# (captured, not piped into grep -q: with pipefail the writer's SIGPIPE would fail the check)
link_has() { [[ "$(ip -n "$1" -4 addr show "$2" 2>/dev/null)" == *"inet $3 "* ]]; }
# no_process_matching PATTERN: nothing runs whose command line matches (pgrep -f, never itself)
no_process_matching() { [ -z "$(pgrep -f "$1" | grep -vx "$$")" ]; }
all_ready() { "$KNA_AGENT" status --config "$1" >/dev/null 2>&1; }

# stage_field CONFIG STAGE FIELD → a field of the stage in `status -o json` (one key per line;
# keys come sorted, so "name" is not first: collect each object's fields, then pick)
stage_field() {
  "$KNA_AGENT" status --config "$1" -o json 2>/dev/null | awk -v s="$2" -v f="$3" '
    /^ *"[a-z_]+": / {
      k = $1; gsub(/[":]/, "", k); v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v)
      gsub(/^"|"$/, "", v); field[k] = v
    }
    /^ *}/ { if (field["name"] == s) { print field[f]; exit } delete field }'
}

# stop_agent PID: SIGTERM one agent and wait up to 90 s; non-zero unless it exited 0 in time.
stop_agent() {
  local pid=$1 rc=0
  kill -TERM "$pid" 2>/dev/null || return 0
  local end=$((SECONDS + 90))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then rc=1; kill -9 "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null || rc=1
  local left=() p
  for p in "${KNA_AGENT_PIDS[@]}"; do [ "$p" = "$pid" ] || left+=("$p"); done
  KNA_AGENT_PIDS=("${left[@]}")
  return $rc
}

# stop_agents: SIGTERM every agent, wait for it; returns non-zero if one did not exit 0 in time.
stop_agents() {
  local pid rc=0
  for pid in "${KNA_AGENT_PIDS[@]}"; do stop_agent "$pid" || rc=1; done
  KNA_AGENT_PIDS=()
  return $rc
}

# Kills whatever is left (daemons from pid files under $KNA_T), unmounts, removes namespaces.
cleanup() {
  stop_agents >/dev/null 2>&1 || true
  local f pid
  for f in $(find "$KNA_T" -name '*.pid' 2>/dev/null); do
    pid=$(cat "$f" 2>/dev/null) || continue
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  # containerd-shims of killed daemons: only those whose command line names our folder.
  pgrep -f "$KNA_T" | xargs -r kill -9 2>/dev/null || true
  sleep 0.5
  grep -o " $KNA_T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  local ns
  for ns in "${KNA_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ $KNA_FAILED -gt 0 ] || [ "${KNA_KEEP:-0}" = 1 ]; then
    for f in "$KNA_T"/*/agent.log; do
      [ -f "$f" ] && { echo "---- $f (last 80 lines)"; tail -n 80 "$f"; }
    done
  fi
  [ "${KNA_KEEP:-0}" = 1 ] || rm -rf "$KNA_T"
}

finish() {
  echo "$KNA_PASSED passed, $KNA_FAILED failed"
  [ $KNA_FAILED -eq 0 ]
}
