# shellcheck shell=bash
# Shared by scripts/slurm/start.sh and stop.sh (source it). Needs STATE (absolute) and PROG.
#
# A one-node Slurm cluster on localhost for CI: munged, slurmctld and slurmd run as plain
# background processes (no systemd), their config, key, logs, state and pid files in STATE.
# Only the UNIX sockets live elsewhere (a short /tmp folder): a socket path may not exceed
# 108 bytes, and slurmstepd puts its sockets in the slurmd spool.

say() { echo "$PROG: $*" >&2; }
fail() { echo "$PROG: error: $*" >&2; exit 1; }

paths() {
	CONF=$STATE/slurm.conf
	KEY=$STATE/munge/munge.key
	LOGS=$STATE/log
	PIDS=$STATE/pids
	SOCKDIR=/tmp/phenomap-slurm-$(printf '%s' "$STATE" | sha1sum | cut -c1-10)
	SOCKET=$SOCKDIR/munge.socket
	SPOOL=$SOCKDIR/spool
}

# Live (not zombie) process?
live() {
	local st
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# The recorded pid of daemon $1 if that process is still that daemon of this STATE.
daemon_pid() {
	local pid cmd
	pid=$(cat "$PIDS/$1.pid" 2>/dev/null) || return 0
	live "$pid" || return 0
	cmd=$(cmdline "$pid")
	case $1 in
	munged) [[ $cmd == *munged*"--key-file=$KEY"* ]] && echo "$pid" ;;
	slurmctld) [[ $cmd == *slurmctld*"-f $CONF"* ]] && echo "$pid" ;;
	slurmd) [[ $cmd == *slurmd\ * && $cmd != *slurmctld* && $cmd == *"-f $CONF"* ]] && echo "$pid" ;;
	esac
	return 0
}

wait_exit() { # PID SECONDS
	local n=$(($2 * 10))
	while live "$1" && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! live "$1"
}

stop_daemon() {
	local pid
	pid=$(daemon_pid "$1")
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_exit "$pid" 20; then
			say "$1 (pid $pid) ignored SIGTERM; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			wait_exit "$pid" 5 || say "$1 (pid $pid) is still there"
		fi
	fi
	rm -f "$PIDS/$1.pid"
}

# Job processes of this cluster (slurmstepd and job steps carry SLURM_CONF=$CONF and a job id).
job_pids() {
	local d pid env
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		env=$(tr '\0' '\n' 2>/dev/null <"$d/environ") || continue
		env=$'\n'$env$'\n'
		[[ $env == *$'\n'"SLURM_CONF=$CONF"$'\n'* ]] || continue
		if [[ $(cmdline "$pid") == slurmstepd* || $env == *$'\n'SLURM_JOB_ID=* ]]; then
			live "$pid" && echo "$pid"
		fi
	done
	return 0
}

# Cancel the jobs, stop slurmd, kill job processes left over, stop slurmctld and munged.
stop_cluster() {
	local jobs left pid
	if [ -n "$(daemon_pid slurmctld)" ] && [ -n "$(daemon_pid munged)" ]; then
		jobs=$(SLURM_CONF=$CONF timeout 20 squeue -h -o %A 2>/dev/null | sort -u || true)
		if [ -n "$jobs" ]; then
			say "cancelling $(echo "$jobs" | wc -l) job(s)"
			# shellcheck disable=SC2086
			SLURM_CONF=$CONF timeout 20 scancel $jobs 2>/dev/null || true
			for _ in $(seq 60); do
				[ -z "$(SLURM_CONF=$CONF timeout 10 squeue -h -o %i 2>/dev/null || true)" ] && break
				sleep 0.5
			done
		fi
	fi
	stop_daemon slurmd
	left=$(job_pids)
	if [ -n "$left" ]; then
		say "killing job processes left over: $(echo $left)"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		for pid in $left; do wait_exit "$pid" 5 || true; done
	fi
	stop_daemon slurmctld
	stop_daemon munged
	rm -rf "$SOCKDIR"
	for d in munged slurmctld slurmd; do [ -z "$(daemon_pid "$d")" ] || return 1; done
	[ -z "$(job_pids)" ]
}
