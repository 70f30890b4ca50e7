#!/usr/bin/env bash
# A single-node SLURM cluster on localhost for tests/test_slurm.py (Debian's slurm-wlm and munge, run as root).
#
#   tests/slurm_cluster.sh install      apt-get install slurm-wlm and munge when slurmctld is missing (quiet)
#   tests/slurm_cluster.sh start DIR    write DIR/slurm.conf, start munged, slurmctld, slurmd; wait until the
#                                       node is idle (then sbatch/squeue/scontrol work with SLURM_CONF=DIR/slurm.conf)
#   tests/slurm_cluster.sh stop DIR     stop the daemons started in DIR (by their pid files)
#
# One node named after this machine with its CPU count, partition `test`. The configuration is also copied to
# /etc/slurm/slurm.conf (removed by stop), where the `srun` inside each job looks for it; start refuses to
# replace one that another SLURM installation put there. No accounting database
# (AccountingStorageType/JobCompType none): Snakemake's executor then needs `--slurm-status-command squeue`,
# and MinJobAge=600 keeps finished jobs visible to squeue/scontrol for ten minutes. RealMemory is set high
# and SlurmdParameters=config_overrides keeps the node usable, so that the memory a profile asks for is
# accepted as it is (it reaches scontrol) without being enforced.
set -euo pipefail

MARKER="# test cluster of tests/slurm_cluster.sh"
SYSTEM_CONF=/etc/slurm/slurm.conf

die() { echo "slurm_cluster.sh: $*" >&2; exit 1; }

wait_for() {  # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

install() {
    if command -v slurmctld >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are missing and installing them needs root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

start() {
    local dir=$1
    [ "$(id -u)" = 0 ] || die "the test cluster runs its daemons as root"
    command -v slurmctld >/dev/null || die "slurmctld not installed (run: $0 install)"
    mkdir -p "$dir"/{state,spool,munge,log}
    dir=$(cd "$dir" && pwd)
    local host cpus
    host=$(hostname -s)
    cpus=$(nproc)
    # munge: a fresh key and socket of our own (the system's munged, if any, is left alone)
    dd if=/dev/urandom bs=1 count=1024 of="$dir/munge/munge.key" status=none
    chmod 400 "$dir/munge/munge.key"
    chmod 700 "$dir/munge"
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed"
    cat >"$dir/slurm.conf" <<EOF
$MARKER
ClusterName=surrogate-test
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
ReturnToService=2
SlurmdParameters=config_overrides
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=1000000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # Snakemake's job step runs `srun` inside each job with every SLURM_* variable removed (SLURM_CONF too),
    # so srun reads the default path: ours goes there, unless another cluster's configuration is there
    if [ -f "$SYSTEM_CONF" ] && ! grep -qx "$MARKER" "$SYSTEM_CONF"; then
        die "$SYSTEM_CONF belongs to another SLURM installation: not starting a test cluster over it"
    fi
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    cp "$dir/slurm.conf" "$SYSTEM_CONF"
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF"
    if ! wait_for 60 sh -c "sinfo -h -o %T | grep -qx idle"; then
        sinfo >&2 || true
        tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
        die "the node did not come up within 60 s (logs in $dir/log)"
    fi
}

stop() {
    local dir=$1 name pid
    for name in slurmd slurmctld munge/munged; do
        [ -f "$dir/$name.pid" ] || continue
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null || continue
        wait_for 30 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    done
    if [ -f "$SYSTEM_CONF" ] && grep -qx "$MARKER" "$SYSTEM_CONF"; then
        rm -f "$SYSTEM_CONF"
    fi
}

case "${1:-}" in
    install) install ;;
    start) [ $# = 2 ] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [ $# = 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 install | start DIR | stop DIR" ;;
esac
