#!/usr/bin/env bash
# Waits until the API server at HOST:PORT lists each NODE with condition Ready=True. For the join
# bench's sides, components.sh's kubelet step and the scale bench: each poll is bash alone (a GET
# over /dev/tcp, builtins, a sleep that is a `read` timing out), so that polling costs the machine
# next to nothing and does not slow the daemons being timed; the poll it replaced started
# `nsenter`, `curl` and `jq` every time, which on two cores showed in the figures
# (docs/benchmarks.md, join).
#
# Usage: wait_ready.sh HOST PORT NODE[,NODE…] [INTERVAL_S] [WITHIN_S]
#   (inside a network namespace that reaches HOST; INTERVAL_S defaults to 0.02, WITHIN_S to 180)
# One NODE: polls GET /api/v1/nodes/NODE and prints $EPOCHREALTIME of the first poll that found it
# Ready. Several: polls the list GET /api/v1/nodes (one request a poll however many nodes), prints
# "NODE EPOCH" the first time each is listed Ready, and "all EPOCH" for the first listing that shows
# every one of them Ready at once; then it ends.
# Exits 1 when that does not happen within WITHIN_S, 2 when jq disagrees with the poll's reading
# of the last answer (the stand-in's JSON changed shape: fix the patterns below).
set -uo pipefail

[ $# -ge 3 ] || { echo "usage: wait_ready.sh HOST PORT NODE[,NODE…] [INTERVAL_S] [WITHIN_S]" >&2; exit 64; }
host=$1 port=$2 interval=${4:-0.02} within=${5:-180}
IFS=, read -r -a nodes <<<"$3"
[ ${#nodes[@]} -gt 0 ] || { echo "wait_ready.sh: no node named" >&2; exit 64; }

fatal() { echo "wait_ready.sh: $*" >&2; exit 1; }
# shellcheck source=tests/bench/baseline/plan.sh
. "$(dirname "$0")/plan.sh"  # pause

# get PATH → body: one GET, HTTP/1.0 so that the server closes after its answer; false unless 200.
body=
get() {
  local answer=
  body=
  { exec 5<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" "$host" >&5
  IFS= read -r -d '' -t 2 answer <&5  # to the end of the answer
  exec 5>&-
  [[ $answer == 'HTTP/1.'?' 200 '* ]] || return 1
  body=${answer#*$'\r\n\r\n'}
}

# The stand-in's answers are compact JSON with sorted keys (nlohmann::json): a Ready condition reads
# ..."status":"True","type":"Ready"..., and in a list each item opens with {"metadata":{ (items
# carry no apiVersion or kind), whose first "name" is the node's. jq confirms the reading once.
readonly kReady='"status":"True","type":"Ready"'
readonly kItem='{"metadata":{'
readonly kReadyJq='[.status.conditions? // [] | .[] | select(.type == "Ready") | .status] == ["True"]'

end=$((SECONDS + within))
if [ ${#nodes[@]} -eq 1 ]; then
  until get "/api/v1/nodes/${nodes[0]}" && [[ $body == *"$kReady"* ]]; do
    [ $SECONDS -lt $end ] || fatal "${nodes[0]} was not Ready within ${within}s"
    pause "$interval"
  done
  at=$EPOCHREALTIME
  jq -e "$kReadyJq" <<<"$body" >/dev/null ||
    { echo "wait_ready.sh: the answer matched the pattern but jq does not find Ready=True" >&2; exit 2; }
  echo "$at"
  exit 0
fi

# ready_listed → LISTED: the names of the Ready nodes in the list $body, one a line (no process:
# this runs every poll).
# Replacing each item's opening with a newline is linear in the answer's length (a `${x#*…}` loop
# is not); compact JSON holds no raw newline of its own.
LISTED=
ready_listed() {
  local item names=()
  while IFS= read -r item; do
    [[ $item == *"$kReady"* && $item =~ \"name\":\"([^\"]+)\" ]] && names+=("${BASH_REMATCH[1]}")
  done <<<"${body//"$kItem"/$'\n'}"
  local IFS=$'\n'
  LISTED="${names[*]}"
}
declare -A seen=()
missing=${#nodes[@]}  # until an answer says otherwise (the server may not answer at all)
while :; do
  if get /api/v1/nodes; then
    at=$EPOCHREALTIME
    ready_listed
    missing=0
    for node in "${nodes[@]}"; do
      if [[ $'\n'$LISTED$'\n' == *$'\n'"$node"$'\n'* ]]; then
        [ -n "${seen[$node]:-}" ] || { seen[$node]=1; echo "$node $at"; }
      else
        missing=$((missing + 1))
      fi
    done
    [ $missing -gt 0 ] || break
  fi
  [ $SECONDS -lt $end ] || fatal "$missing of ${#nodes[@]} nodes were not Ready at once within ${within}s"
  pause "$interval"
done
echo "all $at"
confirmed=$(jq -r ".items[] | select($kReadyJq) | .metadata.name" <<<"$body" | sort)
[ "$confirmed" = "$(sort <<<"$LISTED")" ] || {
  echo "wait_ready.sh: the poll read the Ready nodes as '${LISTED//$'\n'/ }', jq as '${confirmed//$'\n'/ }'" >&2
  exit 2
}
