#!/usr/bin/env bash
# slurm-local.sh — a throw-away single-node Slurm cluster on localhost, for
# integration tests that submit jobs (and job arrays) with sbatch.
#
# Usage:
#   scripts/slurm-local.sh install      # apt-get the packages if missing (root)
#   scripts/slurm-local.sh start DIR    # prints "SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-local.sh stop DIR     # cancels all jobs, kills the daemons
#
#   eval "export $(scripts/slurm-local.sh start "$dir")"   # then sbatch, squeue…
#
# Everything lives under DIR (absolute path owned by the caller): slurm.conf,
# munge key and socket, state, spool, logs, pid files, jobcomp.txt. start and
# stop write nothing global: no systemd, no /etc/slurm, no /etc/munge, no
# /run/munge (only `install` changes the system: the Debian packages, their
# /etc/munge/munge.key, the munge/slurm users, inert systemd unit links).
# Every daemon pid goes to DIR/pids, one per line, so a test
# harness can kill exactly those processes. Must run as root (the daemons
# need it to start jobs as the submitting user). Jobs submitted by a
# non-root user additionally need DIR to be traversable (e.g. chmod 0755
# DIR) to reach the munge socket; mktemp -d makes it 0700.
#
# Logs: DIR/log/{munged,slurmctld,slurmd}.out (stderr of the foreground
# daemons) and DIR/log/{slurmctld,slurmd}.log. Finished jobs: one line
# each in DIR/jobcomp.txt (no sacct: there is no slurmdbd).
#
# Timing: start takes < 1 s. The controller's first scheduling pass comes
# ~3 s after it starts, so the first job waits that long; later jobs start
# within ~1 s of submission, and a freed CPU is reused at once.
# Kill the daemons with `stop` rather than by pid alone: it scancels all jobs
# first, otherwise running batch scripts outlive slurmd.
#
# Environment:
#   SLURM_LOCAL_PORT_BASE  SlurmctldPort; SlurmdPort is +1 (default 16817)
#   SLURM_LOCAL_TIMEOUT    seconds to wait for the node to go idle (default 60)
set -euo pipefail

readonly PORT_BASE="${SLURM_LOCAL_PORT_BASE:-16817}"
readonly START_TIMEOUT="${SLURM_LOCAL_TIMEOUT:-60}"

die() { echo "slurm-local: $*" >&2; exit 1; }
log() { echo "slurm-local: $*" >&2; }  # stdout is reserved for SLURM_CONF=

have_binaries() {
  local b
  for b in slurmctld slurmd slurmstepd sbatch squeue sinfo scancel scontrol munged; do
    command -v "$b" >/dev/null 2>&1 || return 1
  done
}

cmd_install() {
  if have_binaries; then log "slurm and munge already installed"; return 0; fi
  [[ $(id -u) -eq 0 ]] || die "install needs root"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' postinst scripts start global munge/slurmd/slurmctld
  # services via invoke-rc.d. We never use those; a policy-rc.d answering
  # 101 forbids it. Docker images already ship one; otherwise add one for
  # the duration of the install only.
  local policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends \
    slurmctld slurmd slurm-client munge >&2
  have_binaries || die "packages installed but binaries still missing"
}

# ---------------------------------------------------------------- helpers

check_dir() {
  local dir="$1"
  [[ -n $dir ]] || die "missing DIR argument"
  [[ $dir == /* ]] || die "DIR must be an absolute path: $dir"
}

# DIR without trailing slashes, so "$dir/" matches the daemons' cmdlines.
norm_dir() { local d="$1"; while [[ $d == */ && $d != / ]]; do d=${d%/}; done; echo "$d"; }

# True if something listens on 127.0.0.1:$1 (bash's /dev/tcp, no ss needed).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True if pid $1 is alive and its command line mentions $2 (our DIR), so a
# recycled pid from an unrelated process is never killed.
is_ours() {
  local pid="$1" dir="$2" cmdline
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$dir/"* ]]
}

# Pids from DIR/pids that are still ours and alive.
live_pids() {
  local dir="$1" pid
  [[ -f $dir/pids ]] || return 0
  while read -r pid; do
    if is_ours "$pid" "$dir"; then echo "$pid"; fi
  done <"$dir/pids"
}

# Start "$@" in the background in its own session (so a Ctrl-C or SIGHUP
# aimed at the caller's process group doesn't reach it), detached from the
# caller's stdin/stdout (so `$(slurm-local.sh start …)` returns), and record
# its pid. Daemons run in the foreground (-D / --foreground) so $! is the
# daemon itself, not a parent that forks and exits.
spawn() {
  local dir="$1" name="$2"; shift 2
  setsid "$@" </dev/null >"$dir/log/$name.out" 2>&1 &
  echo $! >>"$dir/pids"
}

tail_logs() {
  local dir="$1" f
  for f in "$dir"/log/*; do
    [[ -s $f ]] || continue
    # slurm daemons in the foreground write the same lines to stderr (.out)
    # and to their LogFile (.log); show only the timestamped .log.
    [[ $f == *.out && -e ${f%.out}.log ]] && continue
    echo "----- $f (last 20 lines) -----" >&2
    tail -n 20 "$f" >&2
  done
}

# ---------------------------------------------------------------- munge

start_munge() {
  local dir="$1" m="$1/munge"
  # munged refuses a socket directory that is group/other-writable and its
  # clients (slurm) need to traverse it: 0755. A umask of 022 keeps the
  # files munged creates acceptable to its own permission checks.
  umask 022
  mkdir -p "$m"
  chmod 0755 "$m"
  if [[ ! -s $m/munge.key ]]; then
    # A fresh random key per cluster; munged requires mode 0400/0600.
    dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
  fi
  chmod 0400 "$m/munge.key"
  # --force: override munged's warnings about insecure file/directory
  # permissions (e.g. DIR below a world-writable /tmp) and a stale socket. In the
  # foreground munged logs to stderr (log/munged.out), not to --log-file.
  spawn "$dir" munged munged --foreground --force \
    --socket="$m/munge.socket.2" --key-file="$m/munge.key" \
    --pid-file="$m/munged.pid" --seed-file="$m/munged.seed" --num-threads=2
  wait_for 10 test -S "$m/munge.socket.2"
}

# ---------------------------------------------------------------- slurm

real_memory_mb() {
  # 90 % of MemTotal: slurmd drains a node whose RealMemory exceeds what it
  # measures, so stay below it.
  awk '/^MemTotal:/ { printf "%d\n", $2 / 1024 * 0.9 }' /proc/meminfo
}

write_conf() {
  local dir="$1" node cpus mem
  node=$(hostname -s)
  cpus=$(nproc)
  mem=$(real_memory_mb)
  cat >"$dir/slurm.conf" <<EOF
# Generated by scripts/slurm-local.sh — single-node test cluster.
ClusterName=localtest
# NAME(ADDR) and NodeAddr=127.0.0.1 avoid any DNS lookup of the host name.
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$PORT_BASE
SlurmdPort=$((PORT_BASE + 1))
SlurmUser=root
SlurmdUser=root

# munge with a private key and socket under DIR; cred/munge reads AuthInfo too.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2

StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups (containers/CI): track job processes via /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# No slurmdbd: no accounting (sacct won't work). Finished jobs are recorded
# one line each in JobCompLoc; scontrol show job keeps them for MinJobAge s.
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MinJobAge=300

# Start array tasks without a ~3 s gap between scheduling batches.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
# Cores are the consumable resource, memory is not enforced: several
# 1-CPU array tasks run side by side on the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
# A node that was down comes back by itself when slurmd registers again.
ReturnToService=2
# Kill cancelled jobs quickly (SIGTERM -> SIGKILL gap, default 30 s).
KillWait=5
# No mail on this machine.
MailProg=/bin/true

NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds; fail
# after SECONDS.
wait_for() {
  local secs="$1"; shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

node_idle() { [[ $(sinfo -h -o %T 2>/dev/null) == idle ]]; }

start_failed() {
  local dir="$1" why="$2"
  log "start failed: $why"
  log "node state: $(sinfo -h -o '%T %E' 2>&1 || true)"
  tail_logs "$dir"
  cmd_stop "$dir" >&2 || true
  exit 1
}

cmd_start() {
  local dir="$1" t0=$SECONDS p
  check_dir "$dir"
  [[ $(id -u) -eq 0 ]] || die "start needs root"
  have_binaries || die "slurm/munge missing; run: $0 install"
  export SLURM_CONF="$dir/slurm.conf"

  # Already up (all three daemons alive, controller answering): keep it,
  # whatever jobs it runs, so a second start is harmless.
  if [[ $(live_pids "$dir" | wc -l) -eq 3 ]] && ctld_up; then
    log "cluster in $dir already running"
    echo "SLURM_CONF=$SLURM_CONF"; return 0
  fi
  cmd_stop "$dir" >/dev/null 2>&1 || true  # leftovers of a half-started run

  for p in "$PORT_BASE" $((PORT_BASE + 1)); do
    if port_busy "$p"; then
      die "port $p busy (another cluster?); set SLURM_LOCAL_PORT_BASE"
    fi
  done

  mkdir -p "$dir"/{state,spool,run,log}
  : >"$dir/pids"
  write_conf "$dir"

  start_munge "$dir" || start_failed "$dir" "munged did not create its socket"
  spawn "$dir" slurmctld slurmctld -D -f "$SLURM_CONF"
  # Start slurmd only once the controller answers, so its first
  # registration succeeds instead of waiting for a retry.
  wait_for 30 ctld_up || start_failed "$dir" "slurmctld does not answer scontrol ping"
  spawn "$dir" slurmd slurmd -D -f "$SLURM_CONF"

  wait_for $((START_TIMEOUT - (SECONDS - t0))) node_idle \
    || start_failed "$dir" "node not idle after ${START_TIMEOUT}s"
  log "cluster up in $((SECONDS - t0))s (pids: $(tr '\n' ' ' <"$dir/pids"))"
  echo "SLURM_CONF=$SLURM_CONF"
}

# ---------------------------------------------------------------- stop

# Cancel every job; slurmd going away would leave running batch scripts
# (slurmstepd is a separate process) behind.
cancel_all_jobs() {
  local ids
  ids=$(squeue -h -o %A 2>/dev/null | sort -u) || return 0
  [[ -n $ids ]] || return 0
  # shellcheck disable=SC2086
  scancel $ids 2>/dev/null || true
  # Wait (bounded) for the jobs to leave RUNNING/COMPLETING.
  wait_for 15 no_jobs_left || log "jobs still listed after scancel"
}

# squeue without -t lists only unfinished jobs (pending, running, completing).
no_jobs_left() { [[ -z $(squeue -h -o %T 2>/dev/null) ]]; }

ctld_alive() {
  local pid
  for pid in $(live_pids "$1"); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == slurmctld ]] && return 0
  done
  return 1
}

none_alive() { [[ -z $(live_pids "$1") ]]; }

kill_pids() {
  local dir="$1" pids
  pids=$(live_pids "$dir")
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  wait_for 5 none_alive "$dir" && return 0
  pids=$(live_pids "$dir")
  log "sending KILL to $pids"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  wait_for 2 none_alive "$dir" || true
}

cmd_stop() {
  local dir="$1"
  check_dir "$dir"
  export SLURM_CONF="$dir/slurm.conf"
  local pids
  pids=$(live_pids "$dir")
  [[ -n $pids ]] || { log "nothing running in $dir"; return 0; }
  # Only ask the controller if it is alive: otherwise scancel/squeue hang
  # for MessageTimeout retrying the connection.
  if ctld_alive "$dir"; then cancel_all_jobs; fi
  kill_pids "$dir"
  log "stopped"
}

main() {
  case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start "$(norm_dir "${2:-}")" ;;
    stop) cmd_stop "$(norm_dir "${2:-}")" ;;
    *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
  esac
}

main "$@"
