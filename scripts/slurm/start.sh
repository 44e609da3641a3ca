#!/usr/bin/env bash
# scripts/slurm/start.sh STATE_DIR
#
# Start a one-node Slurm cluster on localhost for phenomap's CI: installs the Debian packages it
# lacks (slurmctld, slurmd, slurm-client, munge, snakemake), writes STATE_DIR/slurm.conf, starts
# munged, slurmctld and slurmd as background processes (no systemd; pids in STATE_DIR/pids),
# waits until the node is idle, and writes `export SLURM_CONF=...` to STATE_DIR/env.sh (and
# stdout). Stop it with scripts/slurm/stop.sh STATE_DIR. Root only (apt-get, the daemons).
#
# Environment: PHENOMAP_SLURM_CTLD_PORT / PHENOMAP_SLURM_SLURMD_PORT (6817 / 6818),
# PHENOMAP_SLURM_CPUS (advertise this many CPUs: more light one-CPU jobs at once),
# PHENOMAP_SLURM_TIMEOUT (seconds to wait for the node, 60).
set -euo pipefail
umask 022
PROG=start.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

[ $# -eq 1 ] && [ -n "$1" ] || fail "usage: start.sh STATE_DIR"
[ "$(id -u)" = 0 ] || fail "must run as root (apt-get and the Slurm daemons need it)"
mkdir -p "$1"
STATE=$(cd "$1" && pwd -P)
[[ $STATE =~ ^[A-Za-z0-9._/+=-]+$ ]] || fail "STATE_DIR '$STATE' has characters slurm.conf cannot hold"
paths
CTLD_PORT=${PHENOMAP_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${PHENOMAP_SLURM_SLURMD_PORT:-6818}
T0=$(date +%s)

node_state() { SLURM_CONF=$CONF timeout 10 sinfo -h -N -n localhost -o %T 2>/dev/null | head -1 || true; }
print_env() { echo "export SLURM_CONF=$CONF" | tee "$STATE/env.sh"; }

up=0
for d in munged slurmctld slurmd; do [ -n "$(daemon_pid "$d")" ] && up=$((up + 1)); done
if [ "$up" = 3 ] && [[ $(node_state) =~ ^(idle|mixed|allocated|completing) ]]; then
	say "the cluster of $STATE is already up"
	print_env
	exit 0
fi
if [ "$up" -gt 0 ]; then
	say "the cluster of $STATE is partly up; stopping it first"
	stop_cluster || fail "could not stop the old daemons"
fi

# --- packages (Debian) ---------------------------------------------------------------
mkdir -p "$LOGS" "$PIDS" "$STATE/munge" "$STATE/ctld"
missing=()
for p in slurmctld slurmd slurm-client munge snakemake; do
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true) == ii* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get to install them"
	say "installing ${missing[*]} (log: $LOGS/apt.log)"
	export DEBIAN_FRONTEND=noninteractive
	install() { apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >>"$LOGS/apt.log" 2>&1; }
	if ! install; then
		apt-get update -q -o DPkg::Lock::Timeout=600 >>"$LOGS/apt.log" 2>&1 || fail "apt-get update failed; see $LOGS/apt.log"
		install || { tail -n 5 "$LOGS/apt.log" >&2; fail "apt-get install failed; see $LOGS/apt.log"; }
	fi
fi
bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || fail "$1 not found"; }
MUNGED=$(bin munged)
MUNGEKEY=$(bin mungekey)
SLURMCTLD=$(bin slurmctld)
SLURMD=$(bin slurmd)

# --- ports, key, config -----------------------------------------------------------------
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy "$CTLD_PORT" && fail "port $CTLD_PORT is in use (another slurmctld?); set PHENOMAP_SLURM_CTLD_PORT"
busy "$SLURMD_PORT" && fail "port $SLURMD_PORT is in use (another slurmd?); set PHENOMAP_SLURM_SLURMD_PORT"
rm -rf "$SOCKDIR"
mkdir -p "$SPOOL"
chmod 755 "$SOCKDIR" # munged wants its socket folder world-executable and not world-writable
chmod 700 "$STATE/munge"
[ -s "$KEY" ] || "$MUNGEKEY" --create --keyfile="$KEY" >>"$LOGS/munged.log" 2>&1 || fail "mungekey failed; see $LOGS/munged.log"
chmod 400 "$KEY"

HW=$("$SLURMD" -C 2>/dev/null | head -1) || fail "slurmd -C failed"
field() { printf '%s\n' "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
CPUS=$(field CPUs)
MEM=$(field RealMemory)
[ -n "$CPUS" ] && [ -n "$MEM" ] || fail "cannot read CPUs / RealMemory from 'slurmd -C': $HW"
NODE="CPUs=$CPUS Boards=$(field Boards) SocketsPerBoard=$(field SocketsPerBoard) CoresPerSocket=$(field CoresPerSocket) ThreadsPerCore=$(field ThreadsPerCore)"
EXTRA=""
if [ -n "${PHENOMAP_SLURM_CPUS:-}" ]; then
	[[ $PHENOMAP_SLURM_CPUS =~ ^[1-9][0-9]*$ ]] || fail "PHENOMAP_SLURM_CPUS must be a positive integer"
	CPUS=$PHENOMAP_SLURM_CPUS
	NODE="CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1"
	EXTRA="SlurmdParameters=config_overrides"
fi
cat >"$CONF" <<EOF
# scripts/slurm/start.sh: one node on localhost, state in $STATE
ClusterName=phenomap-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$PIDS/slurmctld.own.pid
SlurmdPidFile=$PIDS/slurmd.own.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
MailProg=/bin/true
# no cgroups and no accounting: runs without systemd, in containers
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# finished jobs stay visible to scontrol for 10 minutes (no sacct here)
MinJobAge=600
KillWait=5
$EXTRA
NodeName=localhost NodeAddr=127.0.0.1 $NODE RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=$((MEM / CPUS))
EOF
# slurmd always loads a cgroup plugin; naming v1 skips the autodetection that fails where
# /sys/fs/cgroup holds neither cgroup2 nor a v1 systemd hierarchy (nothing here uses cgroups).
echo "CgroupPlugin=cgroup/v1" >"$STATE/cgroup.conf"

# --- daemons ------------------------------------------------------------------------------
started=0
cleanup() { [ "$started" = 1 ] || stop_cluster >/dev/null 2>&1 || true; }
trap cleanup EXIT
CLEAN=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SLURM_CONF="$CONF")
"${CLEAN[@]}" "$MUNGED" --socket="$SOCKET" --key-file="$KEY" --pid-file="$PIDS/munged.pid" \
	--log-file="$LOGS/munged.log" --seed-file="$STATE/munge/seed" </dev/null >>"$LOGS/munged.log" 2>&1 ||
	fail "munged did not start: $(tail -n 1 "$LOGS/munged.log")"
[ -n "$(daemon_pid munged)" ] || fail "munged is not running; see $LOGS/munged.log"
# -D keeps them in the foreground, so $! is the daemon; setsid keeps the CI's signals away.
setsid "${CLEAN[@]}" "$SLURMCTLD" -D -i -f "$CONF" </dev/null >"$LOGS/slurmctld.stderr" 2>&1 &
echo $! >"$PIDS/slurmctld.pid"
setsid "${CLEAN[@]}" "$SLURMD" -D -N localhost -f "$CONF" </dev/null >"$LOGS/slurmd.stderr" 2>&1 &
echo $! >"$PIDS/slurmd.pid"

deadline=$(($(date +%s) + ${PHENOMAP_SLURM_TIMEOUT:-60}))
while [ "$(node_state)" != idle ]; do
	for d in slurmctld slurmd; do
		if [ -z "$(daemon_pid "$d")" ]; then
			tail -n 8 "$LOGS/$d.log" "$LOGS/$d.stderr" >&2 2>/dev/null || true
			fail "$d exited while starting; see $LOGS/$d.log"
		fi
	done
	if [ "$(date +%s)" -ge "$deadline" ]; then
		tail -n 8 "$LOGS/slurmd.log" >&2 2>/dev/null || true
		fail "the node is not idle after ${PHENOMAP_SLURM_TIMEOUT:-60} s (state '$(node_state)'); see $LOGS/"
	fi
	sleep 0.5
done
started=1
say "Slurm up in $(($(date +%s) - T0)) s: node localhost idle, $CPUS CPUs, $MEM MB (logs: $LOGS)"
print_env
