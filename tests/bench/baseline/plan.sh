# shellcheck shell=bash
# Sourced by worker.sh and turndown.sh: reads the agent's plan (`kube-node-agent plan -o json`) once
# and turns its launch specs into shell arrays (dockerd argv, `docker run` arguments, files), so
# that the baseline runs exactly what the agent would. One jq pass: jq takes ~25 ms to start here,
# and a jq per field would cost the baseline a few tenths of a second 2016's script never paid.
# Needs jq and a `fatal` function.

# The plan as shell assignments, each value quoted with @sh. Stages must exist and run where the
# scripts expect (daemons as host processes, the rest as containers).
# shellcheck disable=SC2016  # jq's own $variables
readonly kPlanToShell='
  def stage($n): first(.stages[] | select(.name == $n))
    // error("the plan has no stage \($n) (is it disabled in the config?)");
  def process($n): stage($n) | if .runtime == "process" then .
    else error("\($n) is not a host process in the plan") end;
  def container($n): stage($n) | if .runtime == "container" then .
    else error("\($n) is not a container in the plan") end;
  def env_list: [.process.env | to_entries[] | "\(.key)=\(.value)"];
  def run_args: .container |
    ["-H", "unix://" + .docker_socket, "run", "-d", "--name", .name]
    + (if .network_mode != "" then ["--net=" + .network_mode] else [] end)
    + (if .pid_mode != "" then ["--pid=" + .pid_mode] else [] end)
    + (if .privileged then ["--privileged"] else [] end)
    + (if .restart_policy != "" then ["--restart=" + .restart_policy] else [] end)
    + [.labels | to_entries[] | "--label", "\(.key)=\(.value)"]
    + [.env | to_entries[] | "--env", "\(.key)=\(.value)"]
    + [.mounts[] | "-v", ("\(.source):\(.target)" + (if .read_only then ":ro" else "" end)
                           + (if .propagation != "" then ":" + .propagation else "" end))]
    + [.devices[] | "--device", .]
    + (if (.entrypoint | length) > 0 then ["--entrypoint", .entrypoint[0]] else [] end)
    + [.image] + (.entrypoint[1:] + .cmd);
  # path, mode, content for each file; the plan shows a secret as <redacted>, which cannot be copied
  def file_list: [.files[] | if (.content | contains("<redacted>"))
    then error("the plan redacts a secret in \(.path): the baseline cannot write it (configure no token)")
    else .path, .mode, .content end];
  def var($name; $value): "\($name)=\($value | @sh)";
  def arr($name; $value): "\($name)=(\($value | @sh))";
  process("bootstrap-docker") as $b | container("flannel") as $f | process("main-docker") as $m
  | container("kubelet") as $k | container("kube-proxy") as $p
  | arr("PLAN_BOOTSTRAP_ARGV"; $b.process.argv), arr("PLAN_BOOTSTRAP_ENV"; $b | env_list),
    var("PLAN_BOOTSTRAP_SOCK"; $b.ready.unix_socket), var("PLAN_BOOTSTRAP_PIDFILE"; $b.process.pidfile),
    arr("PLAN_BOOTSTRAP_FILES"; $b | file_list),
    arr("PLAN_FLANNEL_RUN"; $f | run_args), var("PLAN_FLANNEL_IMAGE"; $f.container.image),
    arr("PLAN_FLANNEL_FILES"; $f | file_list), var("PLAN_SUBNET_ENV"; $f.ready.path),
    arr("PLAN_MAIN_ARGV"; $m.process.argv), arr("PLAN_MAIN_ENV"; $m | env_list),
    var("PLAN_MAIN_SOCK"; $m.ready.unix_socket), var("PLAN_MAIN_PIDFILE"; $m.process.pidfile),
    arr("PLAN_MAIN_FILES"; $m | file_list), arr("PLAN_MAIN_ELSEWHERE"; $m.ready.then.elsewhere // []),
    arr("PLAN_KUBELET_RUN"; $k | run_args), arr("PLAN_KUBELET_FILES"; $k | file_list),
    var("PLAN_KUBELET_IMAGE"; $k.container.image), var("PLAN_PROXY_IMAGE"; $p.container.image),
    arr("PLAN_KUBELET_SHARED"; $k.shared_dirs),
    arr("PLAN_PROXY_RUN"; $p | run_args), arr("PLAN_PROXY_FILES"; $p | file_list),
    var("PLAN_IMAGE_DIR"; $config.values["paths.image_dir"].value
      // error("the effective config has no paths.image_dir"))'

# node_script_setup AGENT CONFIG: what every script here checks first (root, inside the node's
# network namespace), then load_plan and the airgap folder.
node_script_setup() {
  [ "$(id -u)" -eq 0 ] || fatal "needs root"
  [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
    fatal "run inside the node's network namespace (nsenter --net=…): this script deletes docker0"
  load_plan "$1" "$2"
  [ -d "$PLAN_IMAGE_DIR" ] || fatal "no airgap image folder at '$PLAN_IMAGE_DIR'"
}

# Tight polls for the scripts that time components (not worker.sh, which polls as 2016 did), made
# of builtins where they can be: a process started every 10 ms would slow the daemons being timed.
readonly kPoll=0.01
readonly kWithin=60  # seconds for any one step; only a broken machine takes this long
# pause SECONDS: a sleep that starts no process (`read -t` on a FIFO that never has data).
pause() {
  if [ -z "${kna_idle_fd:-}" ]; then
    local fifo
    fifo=$(mktemp -u)
    { mkfifo "$fifo" && exec {kna_idle_fd}<>"$fifo"; } || fatal "cannot make a FIFO at $fifo"
    rm -f "$fifo"
  fi
  read -r -t "$1" -u "$kna_idle_fd" _ || true  # a timeout is the point
}
# until_true WHAT COMMAND...: polls COMMAND every kPoll until it succeeds.
until_true() {
  local what=$1 end=$((SECONDS + kWithin))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fatal "$what was not ready within ${kWithin}s"
    pause "$kPoll"
  done
}
# pings SOCKET: the daemon answers _ping (curl: no docker CLI start-up in a figure).
pings() { [ "$(curl -s --max-time 1 --unix-socket "$1" http://docker/_ping)" = OK ]; }
# until_answers WHAT SOCKET: waits for the socket to exist (a builtin test), then for _ping.
until_answers() {
  until_true "$1's socket" test -S "$2"
  until_true "$1" pings "$2"
}
# until_node_ready API_URL NODE: tests/bench/baseline/wait_ready.sh (bash alone, no process per
# poll) every kPoll against the API server at http://HOST:PORT.
until_node_ready() {
  local hostport=${1#http://}
  hostport=${hostport%%/*}
  "$(dirname "${BASH_SOURCE[0]}")/wait_ready.sh" "${hostport%%:*}" "${hostport##*:}" "$2" "$kPoll" \
    "$kWithin" >/dev/null || fatal "the node's Ready condition was not there within ${kWithin}s"
}

# load_plan AGENT CONFIG: sets the PLAN_* variables above.
load_plan() {
  local plan config shell
  plan=$("$1" plan -o json --config "$2") || fatal "kube-node-agent plan failed for $2"
  config=$("$1" config -o json --config "$2") || fatal "kube-node-agent config failed for $2"
  shell=$(jq -r --argjson config "$config" "$kPlanToShell" <<<"$plan") ||
    fatal "cannot turn the plan of $2 into commands (jq says why above; has the shape of \`plan -o json\` changed?)"
  eval "$shell"
}

# start_process ENV_ARRAY ARGV_ARRAY LOG: a daemon in the background, the way docker-multinode
# started its bootstrap dockerd (`docker daemon … 2>LOG 1>/dev/null &`), with the plan's extra
# environment.
start_process() {
  local -n env_=$1 argv_=$2
  env "${env_[@]}" "${argv_[@]}" >/dev/null 2>"$3" &
}

# write_files FILES_ARRAY: the files the agent writes before it launches the stage (kubeconfig,
# static pod manifests, a dockerd's --config-file), with their modes; the array holds path, mode,
# content for each.
write_files() {
  local -n files_=$1
  local i
  for ((i = 0; i < ${#files_[@]}; i += 3)); do
    mkdir -p "$(dirname "${files_[i]}")"
    printf '%s' "${files_[i + 2]}" >"${files_[i]}"
    chmod "${files_[i + 1]}" "${files_[i]}"
  done
}

# prepare_main_docker SUBNET MTU → main_argv: deletes docker0 (dockerd keeps an existing one as it
# is, so --bip would not apply), writes the main dockerd's files, and fills flannel's values into
# its argv (the plan was made before subnet.env existed: it holds placeholders for them).
prepare_main_docker() {
  if ip link show docker0 >/dev/null 2>&1; then ip link del docker0; fi
  mkdir -p "$(dirname "$PLAN_MAIN_SOCK")"
  write_files PLAN_MAIN_FILES
  # shellcheck disable=SC2016
  local subnet_placeholder='${FLANNEL_SUBNET}' mtu_placeholder='${FLANNEL_MTU}'
  main_argv=("${PLAN_MAIN_ARGV[@]//"$subnet_placeholder"/$1}")
  main_argv=("${main_argv[@]//"$mtu_placeholder"/$2}")
}

# prepare_kubelet: what docker-multinode did before it ran the kubelet: the kubelet's folder made
# a shared mount (so that pod volumes reach dockerd); then the plan's files for it written.
prepare_kubelet() {
  local dir
  for dir in "${PLAN_KUBELET_SHARED[@]}"; do
    mkdir -p "$dir"
    mount --bind "$dir" "$dir"
    mount --make-shared "$dir"
  done
  write_files PLAN_KUBELET_FILES
}

# run_kubelet: prepare_kubelet, then its container run as the plan says.
run_kubelet() {
  prepare_kubelet
  docker "${PLAN_KUBELET_RUN[@]}" >/dev/null
}

# image_tarball DIR IMAGE: the airgap tarball holding IMAGE: named after it the way tests/images
# saves it (kna-test/flannel:standin → kna-test_flannel_standin.tar), else found by its manifest.
image_tarball() {
  local dir=$1 image=$2 tarball
  tarball="$dir/${image//[\/:]/_}.tar"
  if [ -f "$tarball" ]; then
    printf '%s\n' "$tarball"
    return
  fi
  for tarball in "$dir"/*.tar; do
    if tar -xOf "$tarball" manifest.json 2>/dev/null |
      jq -e --arg i "$image" 'any(.[].RepoTags[]?; . == $i)' >/dev/null 2>&1; then
      printf '%s\n' "$tarball"
      return
    fi
  done
  fatal "no tarball in $dir holds $image"
}
