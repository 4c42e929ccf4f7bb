#!/usr/bin/env bash
# A master node's network half on real daemons: bootstrap dockerd, etcd and the flanneld stand-in
# as containers in it, and the main dockerd on flannel's subnet; then faults. Checked with real
# clients (docker, etcdctl, ip). Usage: master_node.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
skip_unless_root
trap cleanup EXIT

make_node master 192.168.240.2
ns=$NODE_NS
node_config master master 192.168.240.2 \
  ', "kubelet": {"enabled": false}, "kube-proxy": {"enabled": false}'
cfg=$NODE_CFG
d=$(dirname "$cfg")
bdocker=(docker -H "unix://$d/bootstrap/docker.sock")
mdocker=(docker -H "unix://$d/main/docker.sock")
etcdctl2() { in_node "$ns" env ETCDCTL_API=2 etcdctl --endpoints http://127.0.0.1:2379 "$@"; }

start_agent "$ns" "$cfg"
log "agent pid $AGENT_PID, folder $d"
wait_for 120 "all four stages ready" all_ready "$cfg" || { finish; exit 1; }

# --- what real clients see
check "bootstrap daemon runs the labelled etcd container" \
  test -n "$("${bdocker[@]}" ps -q --filter label=io.kube-node-agent.stage=etcd)"
check "bootstrap daemon runs the labelled flannel container" \
  test -n "$("${bdocker[@]}" ps -q --filter label=io.kube-node-agent.stage=flannel)"
netcfg=$(etcdctl2 get /coreos.com/network/config 2>&1)
check "etcdctl reads the network config the agent wrote ($netcfg)" \
  grep -q '"Network":"10.1.0.0/16"' <<<"$netcfg"
check "subnet.env exists" test -f "$d/flannel/subnet.env"
subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$d/flannel/subnet.env")
mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$d/flannel/subnet.env")
log "flannel leased $subnet mtu $mtu"
check "etcd holds the lease of $subnet" \
  grep -q "${subnet%.*}.0-24" <<<"$(etcdctl2 ls /coreos.com/network/subnets)"
check "docker0 of the main daemon has the subnet's address $subnet" link_has "$ns" docker0 "$subnet"
check "the main daemon's bridge network has mtu $mtu" \
  grep -q "\"com.docker.network.driver.mtu\": \"$mtu\"" <<<"$("${mdocker[@]}" network inspect bridge)"

# --- kill the etcd container: restarted and ready again, keys intact
etcd_id=$("${bdocker[@]}" ps -q --filter label=io.kube-node-agent.stage=etcd)
"${bdocker[@]}" kill "$etcd_id" >/dev/null
wait_for 20 "the agent notices the killed etcd container" stage_is_not "$cfg" etcd ready
wait_for 60 "etcd ready again after docker kill" stage_is "$cfg" etcd ready
check "etcd restarted once" test "$(stage_field "$cfg" etcd restarts)" -ge 1
check "the network config survived" grep -q '"Network"' <<<"$(etcdctl2 get /coreos.com/network/config)"
check "the lease survived" grep -q "${subnet%.*}.0-24" <<<"$(etcdctl2 ls /coreos.com/network/subnets)"

# --- kill -9 the bootstrap dockerd: it, etcd and flannel come back; main-docker keeps running
main_pid=$(stage_field "$cfg" main-docker pid)
kill -9 "$(cat "$d/bootstrap/docker.pid")"
wait_for 20 "the agent notices the dead bootstrap dockerd" \
  stage_is_not "$cfg" bootstrap-docker ready
wait_for 90 "bootstrap-docker, etcd and flannel ready again" all_ready "$cfg"
check "main-docker kept running on the same subnet (pid $main_pid)" \
  test "$(stage_field "$cfg" main-docker pid)" = "$main_pid"
check "flannel kept its subnet" grep -q "FLANNEL_SUBNET=$subnet" "$d/flannel/subnet.env"

# --- flannel writes another subnet: main-docker restarts with it
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.99.1/24\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n' \
  >"$d/flannel/subnet.env.tmp" && mv "$d/flannel/subnet.env.tmp" "$d/flannel/subnet.env"
wait_for 60 "docker0 moves to the new subnet 10.1.99.1/24" link_has "$ns" docker0 10.1.99.1/24
wait_for 60 "main-docker ready on the new subnet" stage_is "$cfg" main-docker ready
check "main-docker was restarted (new pid)" test "$(stage_field "$cfg" main-docker pid)" != "$main_pid"
check "the new mtu applies" \
  grep -q '"com.docker.network.driver.mtu": "1400"' <<<"$("${mdocker[@]}" network inspect bridge)"

# --- a corrupt subnet.env: clear error, flannel not ready, agent still serving status
cp "$d/flannel/subnet.env" "$d/good-subnet.env"
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=banana\n' >"$d/flannel/subnet.env"
wait_for 30 "flannel becomes unready on a corrupt subnet.env" stage_is "$cfg" flannel unready
err=$(stage_field "$cfg" flannel last_error)
check "the error names the bad line ($err)" grep -q "FLANNEL_SUBNET" <<<"$err"
"$KNA_AGENT" status --config "$cfg" >/dev/null 2>&1
check "the agent still answers status (exit 3: not every stage ready)" test $? -eq 3
cp "$d/good-subnet.env" "$d/flannel/subnet.env"
wait_for 30 "flannel ready again once subnet.env is good" stage_is "$cfg" flannel ready

# --- stop: SIGTERM → every stage stopped, exit 0
check "SIGTERM stops the agent with exit 0" stop_agents
check "no dockerd of this node is left" no_process_matching "$d/(bootstrap|main)/docker.sock"
check "the status socket is gone" test ! -e "$d/run/agent.sock"
finish
