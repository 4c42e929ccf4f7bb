#!/usr/bin/env bash
# `kube-node-agent reset --data` leaves nothing behind, proven on real daemons: a master node
# (etcd and flannel in the bootstrap dockerd, the kubelet and its control-plane pods in the main
# dockerd, kube-proxy as a host process) comes up, its agent is killed with -9 (daemons and
# containers keep running, live-restore on), and reset run in the node's namespace must bring the
# machine back to the snapshot taken before the node existed: processes, mounts, links and
# files. A second reset has nothing to undo; a reset while an agent runs refuses and touches
# nothing. Usage: reset.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
skip_unless_root
command -v jq >/dev/null || { echo "FAIL: jq is not installed (scripts/install-deps --runtime)"; exit 1; }
trap cleanup EXIT

make_node master 192.168.243.2
ns=$NODE_NS
node_config master master 192.168.243.2
cfg=$NODE_CFG
d=$(dirname "$cfg")
standins=$(cd "$(dirname "$KNA_AGENT")/standins" && pwd)
jq --arg proxy "$standins/kube-proxy" '.stages["kube-proxy"] = {"runtime": "process", "binary": $proxy}' \
  "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"

# What the node may change on the machine, minus what legitimately changes (other processes'
# pids, the test's own agent.log): the command lines of the processes that name the sandbox or
# run in the node's network namespace, the mount points under the sandbox, the node's links,
# and every file under the node's folder with its type and mode.
snapshot() {
  local procs p
  procs=$(ps -eo args=)  # filtered after ps ended: the filter's own command line is not in it
  echo "## processes naming $KNA_T"
  grep -F -- "$KNA_T/" <<<"$procs" | sort
  echo "## processes in the node's network namespace"
  for p in $(ip netns pids "$ns"); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo; done | sort
  echo "## mount points under $KNA_T"
  awk '{print $5}' /proc/self/mountinfo | grep -F -- "$KNA_T" | sort
  echo "## links of the node"
  ip -n "$ns" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
  echo "## files under $d"
  find "$d" -mindepth 1 -path "$d/agent.log" -prune -o -printf '%y %m %p\n' | sort
}
# While the node runs: what a refused reset must not change.
running_state() {
  echo "bootstrap $(cat "$d/bootstrap/docker.pid") main $(cat "$d/main/docker.pid")"
  docker -H "unix://$d/bootstrap/docker.sock" ps -aq --no-trunc | sort
  docker -H "unix://$d/main/docker.sock" ps -aq --no-trunc | sort
  awk '{print $5}' /proc/self/mountinfo | grep -F -- "$KNA_T" | sort
  ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sort
}
reset_node() {  # reset_node OUT ARGS… → the exit code; stdout and stderr to OUT
  local out=$1
  shift
  in_node "$ns" "$KNA_AGENT" reset --config "$cfg" "$@" >"$out" 2>&1
}

before=$(snapshot)
log "snapshot before the node ($(wc -l <<<"$before") lines)"

start_agent "$ns" "$cfg"
log "agent pid $AGENT_PID, folder $d"
wait_for 150 "all stages ready (API server up, master node Ready)" all_ready "$cfg" || { finish; exit 1; }

# --- an agent runs: reset refuses and changes nothing
running=$(running_state)
reset_node "$KNA_T/refused.out"
rc=$?
cat "$KNA_T/refused.out"
check "reset refuses while the agent runs (exit 69, got $rc)" test "$rc" = 69
check "the refusal names the agent's pid and how to stop it" \
  grep -q "an agent (pid $AGENT_PID) runs on this configuration: stop it first" "$KNA_T/refused.out"
check "the refused reset changed nothing (daemons, containers, mounts, links)" \
  test "$(running_state)" = "$running"
check "every stage still ready" all_ready "$cfg"

# --- the agent dies; everything it started keeps running; reset undoes it all
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
KNA_AGENT_PIDS=()
check "the dockerds outlive the agent" kill -0 "$(cat "$d/main/docker.pid")"
check "the containers outlive the agent" \
  test -n "$(docker -H "unix://$d/main/docker.sock" ps -q)"
during=$(snapshot)
log "with the node up, the snapshot differs in $(diff <(echo "$before") <(echo "$during") | grep -c '^[<>]') lines"

start=$(date +%s.%N)
reset_node "$KNA_T/reset.out" --data
rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cat "$KNA_T/reset.out"
undone=$(grep -cvE '^(undid |nothing to undo|kube-node-agent: )' "$KNA_T/reset.out")
log "reset --data took ${took}s and printed $undone lines of things undone"
check "reset --data exits 0 (got $rc)" test "$rc" = 0
check "it stopped both dockerds" \
  bash -c "grep -Eq '^stopped dockerd pid [0-9]+ \\(main-docker\\)' '$KNA_T/reset.out' && grep -Eq '^stopped dockerd pid [0-9]+ \\(bootstrap-docker\\)' '$KNA_T/reset.out'"
check "it stopped kube-proxy, a host process" grep -Eq "^stopped kube-proxy pid [0-9]+ \(kube-proxy\)" "$KNA_T/reset.out"
check "it removed the containers while their daemons answered" \
  bash -c "grep -q 'removed container .* from bootstrap-docker' '$KNA_T/reset.out' && grep -q 'removed container .* from main-docker' '$KNA_T/reset.out'"
check "it deleted docker0" grep -qx "deleted link docker0" "$KNA_T/reset.out"
after=$(snapshot)
check "the machine is as it was before the node: processes, mounts, links, files" \
  test "$after" = "$before"
[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after")

# --- again: nothing to undo
reset_node "$KNA_T/again.out" --data
rc=$?
cat "$KNA_T/again.out"
check "a second reset exits 0 (got $rc)" test "$rc" = 0
check "a second reset says nothing to undo" grep -qx "nothing to undo" "$KNA_T/again.out"
check "still as before" test "$(snapshot)" = "$before"

# --- a dockerd the agent did not start, on the configured socket and folders (the
# distribution's dockerd on the default paths): reset --data leaves it, its folders and its
# containers alone, and exits 1 saying so.
f=$d/foreign
mkdir -p "$f"
dockerd -H "unix://$d/main/docker.sock" --data-root "$d/main/data" --exec-root "$d/main/exec" \
  -p "$d/main/docker.pid" --iptables=false --ip-masq=false --bridge=none >"$f/dockerd.log" 2>&1 &
foreign=$!
wait_for 30 "a foreign dockerd answers on main-docker's socket" \
  docker -H "unix://$d/main/docker.sock" version
reset_node "$KNA_T/foreign.out" --data
rc=$?
cat "$KNA_T/foreign.out"
check "reset exits 1 with a foreign dockerd on its socket (got $rc)" test "$rc" = 1
check "it says the daemon is not the agent's" grep -q "a dockerd the agent did not start answers on" "$KNA_T/foreign.out"
check "the foreign dockerd still runs" kill -0 "$foreign"
check "its data root is still there" test -d "$d/main/data"
check "it still answers" docker -H "unix://$d/main/docker.sock" version
kill -TERM "$foreign"
for _ in $(seq 100); do kill -0 "$foreign" 2>/dev/null || break; sleep 0.2; done
finish
