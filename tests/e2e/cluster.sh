#!/usr/bin/env bash
# A three-node cluster on one machine: a master and two workers, each in its own network namespace
# (joined by a bridge in a fourth), each with its own agent, daemons and folders. Kubernetes'
# components are the stand-ins of tests/standins/kube; etcd, dockerd, kubectl and etcdctl are
# real. Then faults: a killed kubelet, a restarted agent, an API server that stops answering.
# Usage: cluster.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/../integration/agent/lib.sh"
skip_unless_root
command -v kubectl >/dev/null || { echo "FAIL: kubectl is not installed (scripts/install-deps --runtime)"; exit 1; }
trap cleanup EXIT

MASTER=10.9.0.1
# The kubelet re-checks its node every 2 s once ready (default 5 s), so faults show sooner.
kube=", \"kubelet\": {\"image\": \"$KNA_KUBE_IMAGE\", \"privileged\": $KNA_PRIVILEGED, \"probe\": {\"period_ms\": 2000}}"
kube+=", \"kube-proxy\": {\"image\": \"$KNA_KUBE_IMAGE\", \"privileged\": $KNA_PRIVILEGED}"

make_hub
declare -A NS CFG DIR
for node in master:$MASTER w1:10.9.0.2 w2:10.9.0.3; do
  name=${node%%:*} addr=${node#*:}
  make_node "$name" "$addr"
  role=worker
  [ "$name" = master ] && role=master
  node_config "$name" "$role" "$MASTER" "$kube"
  NS[$name]=$NODE_NS CFG[$name]=$NODE_CFG DIR[$name]=$(dirname "$NODE_CFG")
done
# w2 runs a newer kubelet (the kubeconfig profile of v1.6-v1.23) beside the v1.3.6 master and w1,
# as a cluster mid-upgrade would. The stand-ins learn their version from KNA_STANDIN_VERSION, the
# way a real binary knows its own.
jq '.k8s_version = "v1.12.0"
    | .stages.kubelet.env = {"KNA_STANDIN_VERSION": "v1.12.0"}
    | .stages["kube-proxy"].env = {"KNA_STANDIN_VERSION": "v1.12.0"}' "${CFG[w2]}" >"${CFG[w2]}.new"
mv "${CFG[w2]}.new" "${CFG[w2]}"
# w1 runs kubelet and kube-proxy as host processes (the Resin style), the others as containers in
# their main dockerd (the docker-multinode style).
standins=$(cd "$(dirname "$KNA_AGENT")/standins" && pwd)
jq --arg kubelet "$standins/kubelet" --arg proxy "$standins/kube-proxy" '
    .stages.kubelet = {"runtime": "process", "binary": $kubelet, "probe": {"period_ms": 2000}}
    | .stages["kube-proxy"] = {"runtime": "process", "binary": $proxy}' "${CFG[w1]}" >"${CFG[w1]}.new"
mv "${CFG[w1]}.new" "${CFG[w1]}"
declare -A AGENT
mdocker() { docker -H "unix://${DIR[$1]}/main/docker.sock" "${@:2}"; }
bdocker() { docker -H "unix://${DIR[$1]}/bootstrap/docker.sock" "${@:2}"; }
kc() { in_node "${NS[master]}" env HOME="$KNA_T" kubectl --server "http://$MASTER:8080" "$@"; }
etcdctl2() { in_node "${NS[master]}" env ETCDCTL_API=2 etcdctl --endpoints "http://$MASTER:2379" "$@"; }
ready_nodes() { kc get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l; }
node_ready() { [ "$(kc get node "$1" --no-headers 2>/dev/null | awk '{print $2}')" = Ready ]; }
subnet_of() { sed -n 's/^FLANNEL_SUBNET=//p' "${DIR[$1]}/flannel/subnet.env"; }

start_agent "${NS[master]}" "${CFG[master]}"
AGENT[master]=$AGENT_PID
wait_for 120 "the master's stages are all ready (API server up, master node Ready)" \
  all_ready "${CFG[master]}" || { finish; exit 1; }
for w in w1 w2; do
  start_agent "${NS[$w]}" "${CFG[$w]}"
  AGENT[$w]=$AGENT_PID
done
for w in w1 w2; do
  wait_for 120 "$w: every stage ready" all_ready "${CFG[$w]}"
done

# --- the cluster as real clients see it
wait_for 30 "kubectl get nodes shows three nodes Ready" test "$(ready_nodes)" -eq 3
kc get nodes
check "kubectl lists exactly master, w1, w2" \
  test "$(kc get nodes --no-headers | awk '{print $1}' | sort | tr '\n' ' ')" = "master w1 w2 "
leases=$(etcdctl2 ls /coreos.com/network/subnets)
check "etcd holds three subnet leases" test "$(grep -c . <<<"$leases")" -eq 3
declare -A SUBNET
for n in master w1 w2; do
  SUBNET[$n]=$(subnet_of "$n")
  log "$n leased ${SUBNET[$n]}"
  check "$n: etcd holds its lease ${SUBNET[$n]}" grep -q "${SUBNET[$n]%.*}.0-24" <<<"$leases"
  check "$n: docker0 carries ${SUBNET[$n]}" link_has "${NS[$n]}" docker0 "${SUBNET[$n]}"
done
check "the three subnets differ" \
  test "$(printf '%s\n' "${SUBNET[@]}" | sort -u | wc -l)" -eq 3
apiserver=$(mdocker master ps -q --filter label=io.kubernetes.container.name=kube-apiserver)
check "the API server runs as a static pod in the master's main dockerd" test -n "$apiserver"
for c in kube-controller-manager kube-scheduler; do
  check "$c runs as a static pod on the master" \
    test -n "$(mdocker master ps -q --filter label=io.kubernetes.container.name=$c)"
done
check "the master's manifests are where its kubelet reads them" \
  test -f "${DIR[master]}/manifests/kube-apiserver.json"
check "the workers run no control plane" \
  test -z "$(mdocker w1 ps -q --filter label=io.kubernetes.container.name=kube-apiserver)"
check "w1: the kubelet runs as a host process of the agent" \
  test "$(stage_field "${CFG[w1]}" kubelet workload)" = "pid $(stage_field "${CFG[w1]}" kubelet pid)"
check "w2: the kubelet runs as a labelled container in its main dockerd" \
  test -n "$(mdocker w2 ps -q --filter label=io.kube-node-agent.stage=kubelet)"
check "w1: kube-proxy (v1.3.6) answers its healthz on 10249" \
  in_node "${NS[w1]}" curl -sf http://127.0.0.1:10249/healthz
check "w2: kube-proxy (v1.12.0) answers its healthz on 10256" \
  in_node "${NS[w2]}" curl -sf http://127.0.0.1:10256/healthz
check "w2: the agent wrote its kubeconfig with mode 0600" \
  test "$(stat -c %a "${DIR[w2]}/state/kubeconfig")" = 600
check "w2: the kubelet reads that kubeconfig" \
  grep -q -- "--kubeconfig=${DIR[w2]}/state/kubeconfig" <<<"$(mdocker w2 inspect -f '{{.Args}}' "$(mdocker w2 ps -q --filter label=io.kube-node-agent.stage=kubelet)")"
check "w1 registered as v1.3.6 and w2 as v1.12.0" \
  test "$(kc get nodes --no-headers | awk '$1 != "master" {print $1 "=" $5}' | sort | tr '\n' ' ')" = "w1=v1.3.6 w2=v1.12.0 "

# --- kill -9 a worker's kubelet (a host process on w1): restarted, node Ready again
restarts=$(stage_field "${CFG[w1]}" kubelet restarts)
kubelet_pid=$(stage_field "${CFG[w1]}" kubelet pid)
kill -9 "$kubelet_pid"
kubelet_respawned() {
  local pid
  pid=$(stage_field "${CFG[w1]}" kubelet pid)
  [ -n "$pid" ] && [ "$pid" != "$kubelet_pid" ] && kill -0 "$pid"
}
wait_for 30 "w1: the killed kubelet (pid $kubelet_pid) runs again" kubelet_respawned
wait_for 60 "w1: the kubelet stage is ready again" stage_is "${CFG[w1]}" kubelet ready
check "w1: the agent saw the kubelet die ($(stage_field "${CFG[w1]}" kubelet restarts) restarts, was $restarts)" \
  test "$(stage_field "${CFG[w1]}" kubelet restarts)" -gt "$restarts"
wait_for 30 "w1 is Ready in the API server again" node_ready w1

# --- stop w2's agent and start it again: same subnet, same node, no duplicates
stop_agent "${AGENT[w2]}"
check "w2: the agent exited 0 on SIGTERM" test $? -eq 0
start_agent "${NS[w2]}" "${CFG[w2]}"
AGENT[w2]=$AGENT_PID
wait_for 120 "w2: every stage ready again after the agent restarted" all_ready "${CFG[w2]}"
check "w2 kept its subnet ${SUBNET[w2]}" test "$(subnet_of w2)" = "${SUBNET[w2]}"
check "w2: docker0 still carries ${SUBNET[w2]}" link_has "${NS[w2]}" docker0 "${SUBNET[w2]}"
check "still three leases in etcd" test "$(etcdctl2 ls /coreos.com/network/subnets | grep -c .)" -eq 3
check "still exactly three nodes, w2 among them" \
  test "$(kc get nodes --no-headers | awk '{print $1}' | sort | tr '\n' ' ')" = "master w1 w2 "
wait_for 30 "w2 is Ready in the API server" node_ready w2
for stage in kubelet kube-proxy; do
  check "w2: one $stage container (running or not) in the main dockerd" \
    test "$(mdocker w2 ps -aq --filter label=io.kube-node-agent.stage=$stage | wc -l)" -eq 1
done
check "w2: one flannel container in the bootstrap dockerd" \
  test "$(bdocker w2 ps -aq --filter label=io.kube-node-agent.stage=flannel | wc -l)" -eq 1

# --- the API server stops answering (paused: connections hang): workers say so, then recover
r1=$(stage_field "${CFG[w1]}" kubelet restarts)
r2=$(stage_field "${CFG[w2]}" kubelet restarts)
mdocker master pause "$apiserver" >/dev/null
unreachable() { [[ "$(stage_field "$1" kubelet last_error)" == *"API server http://$MASTER:8080 is not reachable"* ]] && stage_is_not "$1" kubelet ready; }
# A Ready node asks the API server once a minute (60-72 s), then three failed checks (5 s apart,
# each waiting out its 2 s timeout) make it unready: up to ~90 s.
wait_for 120 "w1 reports the API server unreachable" unreachable "${CFG[w1]}"
wait_for 120 "w2 reports the API server unreachable" unreachable "${CFG[w2]}"
log "w1 kubelet: $("$KNA_AGENT" status --config "${CFG[w1]}" --stage kubelet 2>&1)"
check "w1's agent still serves its status and keeps the other stages ready" \
  stage_is "${CFG[w1]}" kube-proxy ready
sleep 25  # longer than the readiness deadline (20 s): the kubelet must not be restarted for it
check "w1: the kubelet was not restarted while the API server was away" \
  test "$(stage_field "${CFG[w1]}" kubelet restarts)" -eq "$r1"
mdocker master unpause "$apiserver" >/dev/null
# Its checks back off while the API server is away (up to 30 s, ±50 %).
wait_for 90 "w1's kubelet ready again once the API server answers" stage_is "${CFG[w1]}" kubelet ready
wait_for 90 "w2's kubelet ready again once the API server answers" stage_is "${CFG[w2]}" kubelet ready
check "w2: recovered without a kubelet restart" \
  test "$(stage_field "${CFG[w2]}" kubelet restarts)" -eq "$r2"
wait_for 60 "three nodes Ready again" test "$(ready_nodes)" -eq 3

# --- everything stops cleanly
check "every agent exits 0 on SIGTERM" stop_agents
for n in master w1 w2; do
  check "$n: no dockerd left" no_process_matching "dockerd.*${DIR[$n]}"
done
finish
