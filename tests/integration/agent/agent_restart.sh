#!/usr/bin/env bash
# The recovery contract on real daemons: a master node (kubelet as a container, kube-proxy as a
# host process) survives `kill -9` of its agent and an in-place upgrade (SIGUSR2) without a single
# restart: the same dockerd pids, the same container ids and start times, the same kube-proxy
# process, restart counts carried over, and the agent restart counted. Then a killed main dockerd
# comes back at its first respawn, its containers still running. Usage: agent_restart.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
skip_unless_root
command -v jq >/dev/null || { echo "FAIL: jq is not installed (scripts/install-deps --runtime)"; exit 1; }
trap cleanup EXIT

make_node master 192.168.241.2
ns=$NODE_NS
node_config master master 192.168.241.2
cfg=$NODE_CFG
d=$(dirname "$cfg")
standins=$(cd "$(dirname "$KNA_AGENT")/standins" && pwd)
jq --arg proxy "$standins/kube-proxy" '.stages["kube-proxy"] = {"runtime": "process", "binary": $proxy}' \
  "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
bdocker=(docker -H "unix://$d/bootstrap/docker.sock")
mdocker=(docker -H "unix://$d/main/docker.sock")

# Everything that an agent restart must leave as it is: pids, container ids and start times, as
# the daemons and /proc tell them (no agent needed to answer).
snapshot() {
  echo "bootstrap-docker $(cat "$d/bootstrap/docker.pid")"
  echo "main-docker $(cat "$d/main/docker.pid")"
  echo "kube-proxy $(pgrep -f "^$standins/kube-proxy ")"
  "${bdocker[@]}" ps -q --no-trunc | sort | xargs -r "${bdocker[@]}" inspect -f '{{.Id}} {{.State.StartedAt}}'
  "${mdocker[@]}" ps -q --no-trunc | sort | xargs -r "${mdocker[@]}" inspect -f '{{.Id}} {{.State.StartedAt}}'
}
restarts_sum() {
  "$KNA_AGENT" status --config "$cfg" -o json | jq '[.stages[].restarts] | add'
}
agent_restarts() { "$KNA_AGENT" status --config "$cfg" -o json | jq .agent_restarts; }
# Seconds (3 decimals) from now until every stage is ready, polling every 50 ms, at most $1 s.
time_to_ready() {
  local start end
  start=$(date +%s.%N)
  end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do
    if all_ready "$cfg"; then
      awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
      return 0
    fi
    sleep 0.05
  done
  echo "never"
  return 1
}

start_agent "$ns" "$cfg"
log "agent pid $AGENT_PID, folder $d"
wait_for 150 "all stages ready (API server up, master node Ready)" all_ready "$cfg" || { finish; exit 1; }

# One real restart before the agent dies: its count must survive the agent.
proxy_pid=$(stage_field "$cfg" kube-proxy pid)
kill -9 "$proxy_pid"
wait_for 30 "kube-proxy respawned (new pid)" \
  bash -c "[ \"\$('$KNA_AGENT' status --config '$cfg' --stage kube-proxy | awk '{print \$2}')\" = ready ] && [ \"\$('$KNA_AGENT' status --config '$cfg' -o json | jq '.stages[] | select(.name==\"kube-proxy\") | .pid')\" != $proxy_pid ]"
check "kube-proxy shows restarts 1" test "$(stage_field "$cfg" kube-proxy restarts)" = 1
before=$(snapshot)
log "before:"$'\n'"$before"
check "the one kube-proxy process is the stage's (pid $(stage_field "$cfg" kube-proxy pid))" \
  grep -qx "kube-proxy $(stage_field "$cfg" kube-proxy pid)" <<<"$before"

# --- kill -9 of the agent: everything it started keeps running
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
KNA_AGENT_PIDS=()
sleep 2  # what a dead agent's children do in the meantime: nothing may die of it
check "nothing died with the agent, kube-proxy included (its output goes to a file, not a pipe)" \
  test "$(snapshot)" = "$before"

start_agent "$ns" "$cfg"
took=$(time_to_ready 60)
log "ready again ${took}s after the agent restarted"
check "ready again after an agent restart (took ${took}s)" test "$took" != never
after=$(snapshot)
check "same dockerd pids, kube-proxy pid, container ids and start times" test "$after" = "$before"
[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after")
check "no stage restarted: restarts add up to 1, kube-proxy's earlier one" test "$(restarts_sum)" = 1
check "status counts the agent restart" test "$(agent_restarts)" = 1
check "the log says what was adopted" grep -q "recovery: adopting bootstrap-docker" "$d/agent.log"
check "metrics count the agent restart" \
  grep -q '^kna_agent_restarts 1' <<<"$(curl -s --unix-socket "$d/run/agent.sock" http://localhost/metrics)"
echo "kna-test: line written by kube-proxy's log after adoption" >>"$d/state/logs/kube-proxy.log"
wait_for 10 "an adopted process's output reaches the new agent's log" \
  grep -q "kube-proxy: kna-test: line written by kube-proxy's log after adoption" "$d/agent.log"

# --- SIGUSR2: the agent re-executes itself in place; nothing restarts
agent_pid=$AGENT_PID
kill -USR2 "$agent_pid"
wait_for 30 "agent restarts 2 after SIGUSR2" bash -c "[ \"\$('$KNA_AGENT' status --config '$cfg' -o json 2>/dev/null | jq .agent_restarts)\" = 2 ]"
took=$(time_to_ready 60)
log "ready again ${took}s after SIGUSR2"
check "the same agent process (pid $agent_pid) after the re-exec" kill -0 "$agent_pid"
check "nothing restarted by the re-exec" test "$(snapshot)" = "$before"

# --- kill -9 of the main dockerd: back at its first respawn (its containerd is cleaned up), and
# its containers (the kubelet's pods) live on: live-restore, then adopted by the new dockerd
main_pid=$(cat "$d/main/docker.pid")
main_containers() {
  "${mdocker[@]}" ps -q --no-trunc | sort | xargs -r "${mdocker[@]}" inspect -f '{{.Id}} {{.State.StartedAt}}'
}
containers_before=$(main_containers)
check "the main dockerd runs containers (the pods of the control plane)" test -n "$containers_before"
kill -9 "$main_pid"
wait_for 20 "the agent notices the dead main dockerd" stage_is_not "$cfg" main-docker ready
took=$(time_to_ready 90)
log "every stage ready again ${took}s after kill -9 of the main dockerd"
check "ready again after kill -9 of the main dockerd (took ${took}s)" test "$took" != never
check "main-docker started once more, not more (restarts 1)" \
  test "$(stage_field "$cfg" main-docker restarts)" = 1
check "its containers outlived it: same ids and start times" test "$(main_containers)" = "$containers_before"

# --- SIGTERM stops everything; the next agent would start afresh
check "SIGTERM stops the agent with exit 0" stop_agents
check "no dockerd of this node is left" no_process_matching "$d/(bootstrap|main)/docker.sock"
check "no kube-proxy is left" no_process_matching "$standins/kube-proxy"
# An ordered stop turns live-restore off first: the daemons end their containers.
check "no container of this node is left (no containerd-shim)" no_process_matching "containerd-shim.*$d/"
check "the checkpoint is gone after an ordered stop" test ! -e "$d/state/checkpoint.json"
finish
