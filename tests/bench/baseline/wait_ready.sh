#!/usr/bin/env bash
# Waits until the API server at HOST:PORT lists NODE with condition Ready=True and prints
# $EPOCHREALTIME of the first poll that found it. For the join bench's sides and components.sh's
# kubelet step: each poll is bash alone (a GET over /dev/tcp, builtins, a sleep that is a `read`
# timing out), so that polling costs the machine next to nothing and does not slow the daemons
# being timed; the poll it replaced started `nsenter`, `curl` and `jq` every time, which on two
# cores showed in the figures (docs/benchmarks.md, join).
#
# Usage: wait_ready.sh HOST PORT NODE [INTERVAL_S] [WITHIN_S]
#   (inside a network namespace that reaches HOST; INTERVAL_S defaults to 0.02, WITHIN_S to 180)
# Exits 1 when the node is not Ready within WITHIN_S, 2 when jq disagrees with the poll's reading
# of the answer (the stand-in's JSON changed shape: fix the pattern below).
set -uo pipefail

[ $# -ge 3 ] || { echo "usage: wait_ready.sh HOST PORT NODE [INTERVAL_S] [WITHIN_S]" >&2; exit 64; }
host=$1 port=$2 node=$3 interval=${4:-0.02} within=${5:-180}

fatal() { echo "wait_ready.sh: $*" >&2; exit 1; }
# shellcheck source=tests/bench/baseline/plan.sh
. "$(dirname "$0")/plan.sh"  # pause

# The stand-in's answer is compact JSON with sorted keys (nlohmann::json), so a Ready condition
# reads ..."status":"True","type":"Ready"...; jq confirms it once at the end.
answer=
ready_now() {
  { exec 5<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'GET /api/v1/nodes/%s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$node" "$host" >&5
  answer=
  IFS= read -r -d '' -t 2 answer <&5  # to the end: the server closes after an HTTP/1.0 answer
  exec 5>&-
  [[ $answer == 'HTTP/1.'?' 200 '* && $answer == *'"status":"True","type":"Ready"'* ]]
}

end=$((SECONDS + within))
until ready_now; do
  [ $SECONDS -lt $end ] || fatal "$node was not Ready within ${within}s"
  pause "$interval"
done
at=$EPOCHREALTIME
jq -e '[.status.conditions[] | select(.type == "Ready") | .status] == ["True"]' \
  <<<"${answer#*$'\r\n\r\n'}" >/dev/null ||
  { echo "wait_ready.sh: the answer matched the pattern but jq does not find Ready=True" >&2; exit 2; }
echo "$at"
