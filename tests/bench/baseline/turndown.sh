#!/usr/bin/env bash
# Undoes worker.sh, as docker-multinode's turndown did before each bring-up: removes the
# containers of both dockerds, stops the daemons (main first: its containers' shims are gone by
# then), and unmounts the kubelet's shared folder and anything mounted under it. Written for
# tests/bench/join; the node's folders and network namespace are the bench's to remove.
# Usage: turndown.sh AGENT_BINARY CONFIG   (root)
set -uo pipefail

fatal() { echo "turndown.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || fatal "usage: turndown.sh AGENT_BINARY CONFIG"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/baseline/plan.sh
. "$here/plan.sh"
load_plan "$1" "$2"

# unmount_under DIR: every mount at DIR or below it, deepest first (stacked ones too).
unmount_under() {
  grep -o " $1\(/[^ ]*\)\? " /proc/mounts | sort -r | xargs -r -n1 umount -l
}

# stop_daemon SOCKET PIDFILE ARGV_ARRAY: removes the daemon's containers, SIGTERMs it (its pid
# file) and waits up to 20 s, then unmounts what it leaves in its roots (dockerd keeps
# exec-root/netns/default mounted).
stop_daemon() {
  local sock=$1 pidfile=$2 pid ids arg
  local -n argv_=$3
  if [ -S "$sock" ]; then
    mapfile -t ids < <(docker -H "unix://$sock" ps -aq 2>/dev/null)
    [ ${#ids[@]} -eq 0 ] || docker -H "unix://$sock" rm -f "${ids[@]}" >/dev/null 2>&1
  fi
  pid=$(cat "$pidfile" 2>/dev/null)
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    local polls=0
    # the daemon outlived worker.sh: whoever reaps orphans here may leave it a zombie for a while
    while [ -e "/proc/$pid" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null; do
      polls=$((polls + 1))
      if [ $polls -gt 200 ]; then
        echo "turndown.sh: dockerd $pid did not stop within 20 s: killed" >&2
        kill -KILL "$pid" 2>/dev/null
        break
      fi
      sleep 0.1
    done
  fi
  for arg in "${argv_[@]}"; do
    case $arg in --exec-root=* | --data-root=*) unmount_under "${arg#*=}" ;; esac
  done
}

stop_daemon "$PLAN_MAIN_SOCK" "$PLAN_MAIN_PIDFILE" PLAN_MAIN_ARGV
stop_daemon "$PLAN_BOOTSTRAP_SOCK" "$PLAN_BOOTSTRAP_PIDFILE" PLAN_BOOTSTRAP_ARGV
for dir in "${PLAN_KUBELET_SHARED[@]}"; do
  unmount_under "$dir"
done
exit 0
