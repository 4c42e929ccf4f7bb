#!/usr/bin/env bash
# The agent as PID 1 of a new PID namespace, as in a container (`unshare --pid --fork
# --mount-proc`; no docker privileges needed): the container init runs before any stage; a stage
# whose process leaves orphans behind gets every one of them reaped by the agent at once (no
# zombie lasts); SIGTERM → ordered stop, exit 0, nothing left in the namespace.
# Usage: pid1.sh AGENT IMAGES_DIR (the images are not used)
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root for unshare --pid"; exit 77; fi
command -v unshare >/dev/null || { echo "FAIL: unshare is not installed (util-linux)"; exit 1; }
child=$(dirname "$KNA_AGENT")/tests/kna_test_child
[ -x "$child" ] || { echo "FAIL: $child is missing (build kna_test_child)"; exit 1; }

d=$KNA_T/pid1
mkdir -p "$d/b"
# The stage's program ignores dockerd's flags: it forks a grandchild that outlives it by 500 ms,
# writes its pid file as dockerd would, and exits 1 after 300 ms, so the agent restarts it and
# each run leaves an orphan to PID 1.
cat >"$d/stage.sh" <<SH
#!/bin/sh
exec "$child" --fork-orphan --orphan-ms 800 --exit-after-ms 300 --exit-code 1 --write-pidfile "$d/b/docker.pid"
SH
chmod +x "$d/stage.sh"
disabled='{"enabled": false}'
cat >"$d/config.json" <<JSON
{
  "role": "worker", "node_name": "pid-one", "master_ip": "10.9.8.7", "net_interface": "lo",
  "paths": {
    "bootstrap_docker_socket": "$d/b/docker.sock", "bootstrap_docker_data_root": "$d/b/data",
    "bootstrap_docker_exec_root": "$d/b/exec", "bootstrap_docker_pidfile": "$d/b/docker.pid",
    "state_dir": "$d/state", "run_dir": "$d/run", "image_dir": "$d/images",
    "kubeconfig": "$d/state/kubeconfig"
  },
  "stages": {
    "bootstrap-docker": {"binary": "$d/stage.sh", "backoff": {"initial_ms": 100, "max_ms": 200}},
    "etcd": $disabled, "flannel": $disabled, "main-docker": $disabled, "cri-dockerd": $disabled,
    "kubelet": $disabled, "kube-proxy": $disabled
  }
}
JSON

# run_pid1 DIR → upid (unshare), agent (the agent's pid outside its namespace; PID 1 inside)
run_pid1() {
  unshare --pid --fork --mount-proc "$KNA_AGENT" run --config "$1/config.json" >>"$1/agent.log" 2>&1 &
  upid=$!
  agent=
  for _ in $(seq 50); do
    agent=$(pgrep -P "$upid" | head -1)
    [ -n "$agent" ] && break
    sleep 0.1
  done
}

run_pid1 "$d"
[ -n "$agent" ] || { fail "the agent started under unshare"; finish; exit 1; }
KNA_AGENT_PIDS+=("$agent")
wait_for 10 "the agent runs as PID 1 of its namespace" grep -q "(pid 1)" "$d/agent.log"
wait_for 10 "the container init ran before the stages" grep -q "container init: / is a shared mount" "$d/agent.log"

# Zombies: children of the agent in state Z. Any one may exist for an instant; none may last.
zombies() { ps -o pid=,stat= --ppid "$agent" 2>/dev/null | awk '$2 ~ /^Z/ {print $1}' | sort; }
adopted=()
lasting=0
for _ in $(seq 24); do
  first=$(zombies)
  # The agent's children by their pid inside the namespace (the last NSpid field).
  for p in $(ps -o pid= --ppid "$agent"); do
    adopted+=("$(awk '/^NSpid/ {print $NF}' "/proc/$p/status" 2>/dev/null)")
  done
  sleep 0.25
  second=$(zombies)
  both=$(comm -12 <(echo "$first") <(echo "$second") | grep -c . || true)
  lasting=$((lasting + both))
done
orphans=$(grep -c "orphan " "$d/state/logs/bootstrap-docker.log" 2>/dev/null || echo 0)
# Orphans ("orphan N", N inside the namespace) seen as children of the agent.
distinct=$(comm -12 <(grep -o "orphan [0-9]*" "$d/state/logs/bootstrap-docker.log" | awk '{print $2}' | sort -u) \
  <(printf '%s\n' "${adopted[@]}" | grep . | sort -u) | grep -c . || true)
check "the stage left orphans behind ($orphans runs printed one)" [ "$orphans" -ge 5 ]
check "orphans were re-parented to the agent ($distinct seen as its children)" [ "$distinct" -ge 3 ]
check "no zombie lasted 250 ms ($lasting did)" [ "$lasting" -eq 0 ]

kill -TERM "$agent"
rc=0
wait "$upid" || rc=$?
KNA_AGENT_PIDS=()
check "SIGTERM: the agent exited 0 (unshare: $rc)" [ "$rc" -eq 0 ]
check "the stages were stopped in order" grep -q "every stage stopped" "$d/agent.log"
check "nothing of the namespace is left" no_process_matching "$d/stage.sh|$child --fork-orphan"

# --- A container restart: a new PID namespace over the same folders, with a real dockerd. The
# pid files the old namespace left (dockerd's -p file, containerd.pid under the exec root) name
# pids that mean something else in the new one; the next agent must come back by itself.
if command -v dockerd >/dev/null; then
  r=$KNA_T/restart
  mkdir -p "$r"
  sed -e "s|$d/|$r/|g" -e 's|"binary": "[^"]*", ||' "$d/config.json" >"$r/config.json"
  ready() { "$KNA_AGENT" status --status-socket "$r/run/agent.sock" --stage bootstrap-docker >/dev/null 2>&1; }
  for round in "clean stop" "kill -9 of the whole namespace" "clean stop"; do
    run_pid1 "$r"
    wait_for 60 "$round: dockerd ready under the agent as PID 1" ready
    if [ "$round" = "clean stop" ]; then
      kill -TERM "$agent"
      rc=0
      wait "$upid" || rc=$?
      check "$round: exit 0 ($rc)" [ "$rc" -eq 0 ]
    else
      kill -9 "$agent"  # PID 1 dies: the kernel kills everything in the namespace
      wait "$upid" 2>/dev/null
      sleep 0.5
      check "$round: left its pid files behind" [ -f "$r/b/docker.pid" ]
    fi
  done
  stale=$(grep -c "stale pid file\|removed helper pid file" "$r/agent.log" || true)
  check "a pid file from the old namespace was recognised and cleared ($stale)" [ "$stale" -ge 1 ]
  check "no dockerd of the sandbox is left" no_process_matching "$r/b/docker.sock"
else
  log "SKIP: container restart with a real dockerd: dockerd is not installed"
fi
finish
