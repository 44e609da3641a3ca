#!/usr/bin/env bash
# scripts/slurm/stop.sh STATE_DIR
#
# Stop the cluster scripts/slurm/start.sh STATE_DIR started: cancel its jobs, stop slurmd,
# slurmctld and munged by the pids recorded in STATE_DIR/pids (each checked against its command
# line, so nothing else is touched), kill job processes it left, remove its socket folder.
# Safe to call twice or when nothing runs. Exit 0 when nothing of it is left running.
set -uo pipefail
PROG=stop.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

[ $# -eq 1 ] && [ -n "$1" ] || fail "usage: stop.sh STATE_DIR"
if [ ! -d "$1" ]; then
	say "no $1; nothing to stop"
	exit 0
fi
STATE=$(cd "$1" && pwd -P)
paths
was=""
for d in munged slurmctld slurmd; do [ -n "$(daemon_pid "$d")" ] && was="$was $d"; done
if stop_cluster; then
	if [ -n "$was" ]; then say "stopped$was"; else say "nothing was running"; fi
	exit 0
fi
fail "processes of the cluster in $STATE are still running"
