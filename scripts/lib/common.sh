# shellcheck shell=bash
# Shared helpers for swiftfs scripts. Source it from a bash script that uses `set -euo pipefail`:
#   . "$(dirname "$0")/../lib/common.sh"
#
# Provides: REPO_ROOT, log/warn/die, ensure_packages, bg_start/bg_stop (background processes killed by an
# EXIT trap), wait_for_socket, wait_pid_timeout, start_fs_daemon (virtiofsd or swiftfsd beside QEMU).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SWIFTFS_LOG_TAG=${SWIFTFS_LOG_TAG:-$(basename "$0")}

log()  { printf '[%s] %s\n' "$SWIFTFS_LOG_TAG" "$*" >&2; }
warn() { printf '[%s] warning: %s\n' "$SWIFTFS_LOG_TAG" "$*" >&2; }
die()  { printf '[%s] error: %s\n' "$SWIFTFS_LOG_TAG" "$*" >&2; exit 1; }

# ensure_packages PKG...: install the Debian packages that are not installed yet (one apt-get run).
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing missing packages: ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# --- background processes ---------------------------------------------------------------------------
# bg_start NAME LOGFILE CMD...: start CMD in the background (stdin from /dev/null, output to LOGFILE) and
# remember it; the EXIT trap installed here stops everything still running, newest first. Sets BG_PID.
declare -ga SWIFTFS_BG_PIDS=() SWIFTFS_BG_NAMES=()
declare -ga SWIFTFS_CLEANUP_CMDS=()
BG_PID=

bg_start() {
    local name=$1 logfile=$2
    shift 2
    "$@" </dev/null >"$logfile" 2>&1 &
    BG_PID=$!
    SWIFTFS_BG_PIDS+=("$BG_PID")
    SWIFTFS_BG_NAMES+=("$name")
    _swiftfs_install_trap
}

# bg_stop PID: TERM, then KILL after 3 s. Only ever signals processes this script started.
bg_stop() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# on_exit CMD: run CMD (a string for eval) at exit, after the background processes are stopped.
on_exit() { SWIFTFS_CLEANUP_CMDS+=("$1"); _swiftfs_install_trap; }

_swiftfs_cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#SWIFTFS_BG_PIDS[@]} - 1; i >= 0; i--)); do
        bg_stop "${SWIFTFS_BG_PIDS[i]}"
    done
    for i in "${SWIFTFS_CLEANUP_CMDS[@]}"; do eval "$i" || true; done
    exit "$rc"
}

_swiftfs_install_trap() {
    trap _swiftfs_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# wait_for_socket PATH PID [SECONDS]: wait until PATH is a socket; fail early if PID died.
wait_for_socket() {
    local path=$1 pid=$2 secs=${3:-10} i
    for ((i = 0; i < secs * 10; i++)); do
        [[ -S $path ]] && return 0
        kill -0 "$pid" 2>/dev/null || die "process $pid exited before creating socket $path"
        sleep 0.1
    done
    die "socket $path did not appear within ${secs}s"
}

# wait_pid_timeout PID SECONDS: wait for a child to exit; returns its status, or 124 on timeout.
wait_pid_timeout() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            local rc=0
            wait "$pid" || rc=$?
            return "$rc"
        fi
        sleep 0.1
    done
    return 124
}

# --- file-system daemons -----------------------------------------------------------------------------
VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
SWIFTFSD=${SWIFTFSD:-$REPO_ROOT/.build/release/swiftfsd}

# start_fs_daemon KIND SOCKET SHARE_DIR LOGFILE: start `virtiofsd` or `swiftfsd` serving SHARE_DIR on the
# vhost-user socket SOCKET and wait for the socket. Sets DAEMON_PID. Extra daemon flags: DAEMON_ARGS
# (a string, word-split). DAEMON_NOFILE=N starts it under `ulimit -n N` (soft and hard). The C virtiofsd needs `-o xattr` (its default is no_xattr); its lock options
# stay at the defaults (no_posix_lock, no_flock), so the guest kernel does locks locally.
start_fs_daemon() {
    local kind=$1 sock=$2 share=$3 logfile=$4 cmd
    rm -f "$sock"
    case $kind in
        virtiofsd)
            [[ -x $VIRTIOFSD ]] || ensure_packages qemu-system-common
            cmd=("$VIRTIOFSD" "--socket-path=$sock" -o "source=$share" -o cache=auto -o xattr) ;;
        swiftfsd)
            [[ -x $SWIFTFSD ]] || die "swiftfsd not found at $SWIFTFSD (build it: swift build -c release)"
            cmd=("$SWIFTFSD" "--socket-path=$sock" "--shared-dir=$share" --cache=auto) ;;
        *) die "unknown daemon '$kind' (expected virtiofsd or swiftfsd)" ;;
    esac
    # shellcheck disable=SC2206 # DAEMON_ARGS is meant to be word-split
    cmd+=(${DAEMON_ARGS:-})
    if [[ -n ${DAEMON_NOFILE:-} ]]; then
        cmd=(bash -c 'ulimit -Sn "$0" && ulimit -Hn "$0" && exec "$@"' "$DAEMON_NOFILE" "${cmd[@]}")
    fi
    log "starting $kind: ${cmd[*]}"
    bg_start "$kind" "$logfile" "${cmd[@]}"
    DAEMON_PID=$BG_PID
    wait_for_socket "$sock" "$DAEMON_PID" 15
}
