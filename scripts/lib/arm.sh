# Shared by scripts/cross and scripts/device-image: what each ARM architecture is called by Debian,
# GCC, qemu and Docker; Debian root filesystems made with mmdebstrap and cached outside the clone;
# binfmt_misc registration so that ARM programs (and the children they fork) run under qemu-user.
# Source it; it defines functions and variables only.

KNA_CACHE_DIR=${KNA_CACHE_DIR:-/var/cache/kube-node-agent}

# arm_arch ARCH: sets TRIPLET, QEMU, QEMU_CPU, BINFMT, PLATFORM, PROCESSOR for a Debian
# architecture name.
arm_arch() {
  case "$1" in
    armhf)
      TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm-static QEMU_CPU=arm BINFMT=qemu-arm PLATFORM=linux/arm/v7
      PROCESSOR=armv7l ;;
    arm64)
      TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64-static QEMU_CPU=aarch64 BINFMT=qemu-aarch64
      PLATFORM=linux/arm64
      PROCESSOR=aarch64 ;;
    *) echo "unknown architecture '$1': use armhf or arm64" >&2; return 64 ;;
  esac
}


# arm_sources FILE: a one-line sources.list naming this machine's Debian mirror with the bookworm
# main and updates suites. Not the security suite: its armhf index is broken on this mirror.
arm_sources() {
  local mirror
  mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]*/debian/?( |$)' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
             2>/dev/null | awk '{print $2}' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "${mirror%/}" "${mirror%/}" >"$1"
}

# arm_rootfs ARCH DIR VARIANT PACKAGES...: a Debian bookworm root filesystem for ARCH in DIR,
# made once and reused while the package list is the same (DIR/.kna-stamp records it). Built
# beside DIR and renamed into place, so an interrupted run never leaves half a tree to reuse.
# Sets ROOTFS_MADE=1 when it made one, 0 when it reused DIR.
arm_rootfs() {
  local arch=$1 dir=$2 variant=$3
  shift 3
  local stamp="bookworm $arch $variant $*"
  ROOTFS_MADE=0
  if [ -f "$dir/.kna-stamp" ] && [ "$(cat "$dir/.kna-stamp")" = "$stamp" ]; then
    return 0
  fi
  local tmp="$dir.tmp.$$" sources
  sources=$(mktemp -d)/sources.list  # the root filesystem keeps it as 0000sources.list
  arm_sources "$sources"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$dir")"
  local include
  include=$(IFS=,; echo "$*")
  echo "making the $arch root filesystem $dir ($variant: $include)"
  if ! mmdebstrap --quiet --arch="$arch" --variant="$variant" ${include:+--include="$include"} \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --aptopt='Dir::Cache::pkgcache ""' --aptopt='Dir::Cache::srcpkgcache ""' \
      bookworm "$tmp" "$sources"; then
    rm -rf "$tmp" "$(dirname "$sources")"
    echo "mmdebstrap failed for $arch (its messages are above)" >&2
    return 1
  fi
  rm -rf "$(dirname "$sources")"
  echo "$stamp" >"$tmp/.kna-stamp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  ROOTFS_MADE=1
}

# arm_relative_links DIR: absolute symbolic links inside a sysroot point at the host's files
# (/usr/lib/<triplet>/libz.so -> /lib/<triplet>/libz.so.1); make each relative to DIR instead.
arm_relative_links() {
  local root=$1 link target rel
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    case "$target" in
      /*) rel=$(realpath -m --relative-to="$(dirname "$link")" "$root$target")
          ln -sfn "$rel" "$link" ;;
    esac
  done < <(find "$root" -type l -print0)
}

# arm_binfmt ARCH [SYSROOT]: registers qemu-user for ARCH with binfmt_misc so that ARM programs run
# directly (and the programs they fork). Prints why not and returns 1 when this machine cannot.
# With SYSROOT, also makes /etc/qemu-binfmt/<cpu> (Debian's qemu-user looks there for the target's
# loader and libraries when QEMU_LD_PREFIX is not set) a link to it, so that a program started
# with an environment of its own (the tests' children are) still finds its libraries. A folder or
# a link there that is not one of our sysroots is left alone.
arm_binfmt() {
  arm_arch "$1" || return
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
      echo "binfmt_misc is not mounted and cannot be mounted here (needs root and a kernel with binfmt_misc)"
      return 1
    }
  fi
  if [ ! -e "/proc/sys/fs/binfmt_misc/$BINFMT" ]; then
    update-binfmts --enable "$BINFMT" >/dev/null 2>&1 || true
  fi
  if ! grep -qx enabled "/proc/sys/fs/binfmt_misc/$BINFMT" 2>/dev/null; then
    echo "qemu-user for $1 cannot be registered with binfmt_misc (update-binfmts --enable $BINFMT failed)"
    return 1
  fi
  [ -n "${2:-}" ] || return 0
  local prefix=/etc/qemu-binfmt/$QEMU_CPU current
  current=$(readlink "$prefix" 2>/dev/null || true)
  [ "$current" = "$2" ] && return 0
  if [ -e "$prefix" ] && [ ! -L "$prefix" ]; then
    echo "note: $prefix is a folder of this machine's: the programs tests start with an environment of their own use it, not $2" >&2
  elif [ -z "$current" ] || [ ! -e "$current" ] || [ -f "$current/.kna-stamp" ]; then
    mkdir -p /etc/qemu-binfmt && ln -sfn "$2" "$prefix"
  else
    echo "note: $prefix links to $current, which is not a sysroot of ours: left alone" >&2
  fi
}

# Debian's docker.io CLI (20.10): a newer docker first on PATH may lack the legacy builder.
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker || echo docker)

# arm_start_dockerd WORK: a private dockerd for the device image: its socket, exec root and pid
# file under WORK, its data root cached in $KNA_CACHE_DIR/device-image/docker (so the base image
# and the package layer are reused; a lock keeps it to one daemon at a time), no bridge and no
# iptables rules (builds use the host's network). Sets DOCKERD_PID and DOCKER_HOST_URL.
arm_start_dockerd() {
  local work=$1 data=$KNA_CACHE_DIR/device-image/docker
  mkdir -p "$data" "$work/exec"
  exec 9>"$KNA_CACHE_DIR/device-image/lock"
  flock -w 900 9 || { echo "another build holds $KNA_CACHE_DIR/device-image/lock" >&2; return 1; }
  dockerd -H "unix://$work/docker.sock" --data-root "$data" --exec-root "$work/exec" \
    --pidfile "$work/docker.pid" --bridge=none --iptables=false --ip-masq=false \
    >"$work/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  DOCKER_HOST_URL=unix://$work/docker.sock
  local _
  for _ in $(seq 1 300); do
    "$DOCKER_CLI" -H "$DOCKER_HOST_URL" version >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$work/dockerd.log" >&2
  echo "the private dockerd did not answer within 30 s (log above)" >&2
  return 1
}

# arm_stop_dockerd WORK: stops the daemon arm_start_dockerd started and unmounts what it left
# under WORK (its exec root's netns mount outlives it).
arm_stop_dockerd() {
  if [ -n "${DOCKERD_PID:-}" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    DOCKERD_PID=
  fi
  grep -o " $1/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}
