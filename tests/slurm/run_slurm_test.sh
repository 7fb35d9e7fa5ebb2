#!/usr/bin/env bash
# make test-slurm: start a single-node SLURM on this machine (Debian's slurm-wlm and munge, installed
# here if missing; needs root), run the robustness rules through `--profile profiles/slurm` (executor
# slurm) in one copy of the project and locally in another, check the tables are byte-identical, and
# stop the daemons (on failure too). Where the daemons cannot be started it says so in one line and
# exits 1.
#
#   bash tests/slurm/run_slurm_test.sh [TARGET ...]     (PYTHON: the venv's python with the plugin)
#
# It writes /etc/slurm/slurm.conf (the jobs' nested `srun` reads no SLURM_CONF: the plugin strips
# SLURM_* variables from its environment) and removes it at the end; it refuses to touch one it did not
# write, and a slurmctld, slurmd or munged that it did not start.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
HARNESS="$ROOT/tests/slurm/slurm_harness.py"
CONF=/etc/slurm/slurm.conf
START=$(date +%s)

# The one line that says why SLURM cannot run here (cleanup adds nothing to it).
CANNOT=0
cannot() {
	echo "make test-slurm: cannot start a single-node SLURM on this machine: $*" >&2
	CANNOT=1
	exit 1
}

[ "$(id -u)" = 0 ] || cannot "it needs root (to install slurm-wlm and munge and run slurmd)"
"$PYTHON" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null ||
	cannot "$PYTHON has no snakemake-executor-plugin-slurm (pip install -e '.[workflow,slurm]')"

WORK=$(mktemp -d /tmp/sbrtmeta-slurm.XXXXXX)
chmod 755 "$WORK"
PIDS=()
CONF_WRITTEN=0

cleanup() {
	local status=$?
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$CONF_WRITTEN" = 1 ] && head -n 1 "$CONF" 2>/dev/null | grep -q "slurm_harness.py"; then
		rm -f "$CONF"
	fi
	if [ "$status" = 0 ] || [ "$CANNOT" = 1 ]; then
		rm -rf "$WORK"
	else
		echo "make test-slurm: failed; logs and both project copies are kept in $WORK" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- packages --------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null ||
	! command -v sbatch >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -q --no-install-recommends slurm-wlm munge >"$WORK/apt.log" 2>&1 ||
		{ apt-get update -q >>"$WORK/apt.log" 2>&1 &&
			apt-get install -y -q --no-install-recommends slurm-wlm munge >>"$WORK/apt.log" 2>&1; }; } ||
		cannot "apt-get install slurm-wlm munge failed ($(tail -n 1 "$WORK/apt.log"))"
fi

for daemon in slurmctld slurmd; do
	if pgrep -x "$daemon" >/dev/null; then
		cannot "a $daemon is already running (this test starts and stops its own)"
	fi
done
if [ -e "$CONF" ] && ! head -n 1 "$CONF" | grep -q "slurm_harness.py"; then
	cannot "$CONF exists and was not written by this test"
fi

# --- munge -----------------------------------------------------------------------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	[ -s /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || cannot "no munge key and mungekey failed"
	mkdir -p /run/munge /var/log/munge /var/lib/munge
	chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge/munge.key
	setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground >"$WORK/munged.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
		sleep 0.1
	done
	munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || cannot "munged did not start ($(tail -n 1 "$WORK/munged.out"))"
fi

# --- slurm.conf and the daemons --------------------------------------------------------------------
mkdir -p "$WORK/state/ctld" "$WORK/state/spool"
"$PYTHON" "$HARNESS" conf "$WORK/state" >"$WORK/slurm.conf" || cannot "could not write slurm.conf (slurmd -C failed)"
mkdir -p "$(dirname "$CONF")"
cp "$WORK/slurm.conf" "$CONF"
CONF_WRITTEN=1

slurmctld -D -i >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 60); do
	state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
	[ "$state" = idle ] && break
	sleep 0.5
done
if [ "$state" != idle ]; then
	logs=("$WORK/slurmctld.out" "$WORK/slurmd.out")
	reason=$(grep -h -i "fatal" "${logs[@]}" 2>/dev/null | tail -n 1 || true)
	[ -n "$reason" ] || reason=$(grep -h -i "error" "${logs[@]}" 2>/dev/null | grep -v -i -E "pmix|state file" | tail -n 1 || true)
	cannot "the node is '${state:-not reported}' 30 s after starting slurmctld and slurmd (${reason:-no error logged})"
fi
echo "make test-slurm: single-node SLURM up ($(sinfo -h -N -o '%N: %c CPUs, %m MB')) in $(($(date +%s) - START)) s"

# --- the runs --------------------------------------------------------------------------------------
"$PYTHON" "$HARNESS" run "$WORK" "$@"
echo "make test-slurm: passed in $(($(date +%s) - START)) s"
