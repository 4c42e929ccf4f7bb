#!/usr/bin/env bash
# The agent's API on a real node: `logs` of a process stage (its log file) and of a container
# stage (its Docker daemon), followed; `restart` through the supervisor; who may do either (root,
# api.socket_group, not anybody else: 403 with the reason); /metrics on the socket and on
# metrics.address, checked by promtool; bad requests answered and survived.
# Usage: api.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/lib.sh"
skip_unless_root
trap cleanup EXIT

make_node apinode 192.168.242.2
node_config apinode master 192.168.242.2 ', "kubelet": {"enabled": false},
  "kube-proxy": {"enabled": false}, "flannel": {"enabled": false},
  "main-docker": {"enabled": false}'
cfg=$NODE_CFG
ns=$NODE_NS
sock=$(dirname "$cfg")/run/agent.sock
group=4243  # a number needs no /etc/group entry
# The socket open to everyone, so that a stranger reaches it and is refused by the agent itself.
sed -i "s|^  \"role\"|  \"api\": {\"socket_group\": \"$group\", \"socket_mode\": \"0666\"},\n  \"metrics\": {\"address\": \"127.0.0.1:19101\"},\n  \"role\"|" "$cfg"
start_agent "$ns" "$cfg"
wait_for 90 "etcd ready" stage_is "$cfg" etcd ready

agent() { "$KNA_AGENT" "$@" --status-socket "$sock"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$KNA_AGENT" "$@" --status-socket "$sock"; }
as_member() { setpriv --reuid=65534 --regid=65534 --groups=$group "$KNA_AGENT" "$@" --status-socket "$sock"; }

mode=$(stat -c '%a %g' "$sock")
check "the socket has the configured mode and group ($mode)" test "$mode" = "666 $group"

# logs: a process stage (bootstrap-docker's log file) and a container stage (etcd, from dockerd)
out=$(agent logs bootstrap-docker -n 3)
lines=$(printf '%s\n' "$out" | grep -c .)
check "logs bootstrap-docker -n 3 prints 3 lines of dockerd's output ($lines)" test "$lines" = 3
out=$(agent logs etcd -n 5)
check "logs etcd prints etcd's own output" grep -q 'etcd' <<<"$out"
agent logs etcd -f -n 1 >"$KNA_T/followed" 2>&1 &
follower=$!
sleep 1
check "logs -f keeps following" kill -0 $follower
# A restart of etcd writes new lines: the follower sees them (or ends with the container it
# followed; either way it prints more than its one line of tail).
out=$(agent restart etcd)
check "restart etcd is accepted ($out)" grep -q 'restarting etcd' <<<"$out"
restarted() { [ "$(stage_field "$cfg" etcd restarts)" -ge 1 ] 2>/dev/null; }
wait_for 60 "etcd restarted (restarts >= 1)" restarted
wait_for 90 "etcd ready again" stage_is "$cfg" etcd ready
check "the follower printed more than its tail" test "$(grep -c . "$KNA_T/followed")" -gt 1
kill $follower 2>/dev/null; wait $follower 2>/dev/null
check "the agent logged who asked for the restart" \
  grep -q 'restart of etcd requested by pid [0-9]* uid 0' "$(dirname "$cfg")/agent.log"
check "bootstrap-docker was not restarted" test "$(stage_field "$cfg" bootstrap-docker restarts)" = 0

# Who may: a stranger (who can reach the socket: its folders opened for the test) reads the status but is refused the node's verbs; a group member is not.
chmod 755 "$KNA_T" "$(dirname "$cfg")" "$(dirname "$sock")"
check "a stranger reads the status" as_nobody status --stage etcd
out=$(as_nobody restart etcd 2>&1); rc=$?
check "a stranger's restart is refused, exit 1 ($rc: $out)" \
  bash -c '[ "$1" = 1 ] && grep -q "refused.*uid 65534 is neither root nor in the group 4243" <<<"$2"' _ "$rc" "$out"
out=$(as_nobody logs etcd 2>&1); rc=$?
check "a stranger's logs are refused, exit 1" bash -c '[ "$1" = 1 ] && grep -q "refused" <<<"$2"' _ "$rc" "$out"
check "the refusal is logged with the peer" \
  grep -q 'refused to restart etcd for pid [0-9]* uid 65534' "$(dirname "$cfg")/agent.log"
check "a member of api.socket_group reads the logs" as_member logs etcd -n 1
check "restarting an unknown stage says so" \
  bash -c 'out=$("$@" 2>&1); [ $? = 1 ] && grep -q "no stage \"nosuch\"" <<<"$out"' _ \
  "$KNA_AGENT" restart nosuch --status-socket "$sock"

# Bad requests on the socket: each answered, the agent keeps serving.
bad() { printf "$1" | timeout 10 curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" "$2" "${@:3}"; }
check "unknown path → 404" test "$(bad '' http://x/nope)" = 404
check "wrong method → 405" test "$(bad '' http://x/v1/status -X DELETE)" = 405
check "huge header → 431" test "$(bad '' http://x/v1/status -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")" = 431
check "the agent still answers" stage_is "$cfg" etcd ready

# Metrics: on the socket and on metrics.address (inside the node's namespace), valid for promtool.
curl -s --unix-socket "$sock" http://x/metrics >"$KNA_T/metrics.txt"
check "metrics name the stages" grep -q 'kna_stage_ready{stage="etcd"} 1' "$KNA_T/metrics.txt"
tcp=$(in_node "$ns" curl -s http://127.0.0.1:19101/metrics)
check "metrics.address serves the same metrics" grep -q 'kna_stage_ready{stage="etcd"} 1' <<<"$tcp"
check "metrics.address does not serve the control API" \
  test "$(in_node "$ns" curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:19101/v1/stages/etcd/restart)" = 404
if command -v promtool >/dev/null; then
  check "promtool check metrics passes on the live agent's metrics" \
    bash -c 'promtool check metrics <"$1"' _ "$KNA_T/metrics.txt"
else
  log "NOTE: promtool is not installed (apt-get install prometheus): its check is not run"
fi

# What the agent sends, by target and kind: a ready master's agent asks etcd's API nothing (the
# network config is written once per run of etcd), only its /health, one a probe period.
requests() {  # requests TARGET KIND: the counter's value now (0 when absent)
  curl -s --unix-socket "$sock" http://x/metrics |
    awk -v want="kna_requests_total{target=\"$1\",kind=\"$2\"}" '$1 == want { v = $2 } END { print v + 0 }'
}
check "docker calls are counted" test "$(requests docker api)" -gt 0
check "docker's _ping checks are counted" test "$(requests docker health)" -gt 0
etcd_api=$(requests etcd api)
etcd_health=$(requests etcd health)
check "etcd's network config was written (counted: $etcd_api)" test "$etcd_api" -gt 0
sleep 11
check "no etcd API request while nothing changes ($etcd_api → $(requests etcd api))" \
  test "$(requests etcd api)" = "$etcd_api"
check "etcd's health checks go on ($etcd_health → $(requests etcd health))" \
  test "$(requests etcd health)" -ge $((etcd_health + 2))

check "SIGTERM stops the agent with exit 0" stop_agents
check "the socket is removed" test ! -e "$sock"
finish
