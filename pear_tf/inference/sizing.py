"""How many threads a scoring process may use: its machine's cores shared among the processes on it.

TensorFlow sizes its thread pools to every core it sees, so N worker processes on one machine
run N × cores threads and fight over the cores (issue 25 measured 2 Beam workers on 2 cores at
0.94× one). A worker instead takes ``cores ÷ processes`` threads for TensorFlow's intra-op and
inter-op pools (LiteRT: its XNNPACK threads), where ``cores`` is what the process may run on
(its CPU affinity, and a container's CPU quota) and ``processes`` is how many scoring processes
share the machine: the runner's choice, read from its pipeline options (see beam_score).
``pin`` also pins each process to its own cores (one slot per process, claimed with lock files).
"""

import dataclasses
import fcntl
import math
import os
import tempfile

# Slot lock files stay open (and locked) for the life of the process.
_SLOT_LOCKS = []


def available_cores():
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


def cgroup_cpu_quota(paths=("/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")):
    """CPUs a cgroup quota allows (e.g. docker --cpus=2 → 2.0), or None without one."""
    try:
        with open(paths[0]) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(paths[1]) as f:
            quota = int(f.read())
        with open(os.path.join(os.path.dirname(paths[1]), "cpu.cfs_period_us")) as f:
            return None if quota <= 0 else quota / int(f.read())
    except (OSError, ValueError):
        return None


@dataclasses.dataclass(frozen=True)
class WorkerSizing:
    """How one scoring process sizes itself on its machine.

    Attributes:
      processes: scoring processes sharing a machine (None: one per core, Dataflow's default).
      intra_op_threads, inter_op_threads: TensorFlow's pools (0: cores ÷ processes, at least 1).
      pin: pin each process to its own ``intra_op_threads`` cores (Linux).
      tag: names this pipeline's slot lock files (pinning), so two pipelines on a machine don't share slots.
    """

    processes: int | None = 1
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    pin: bool = False
    tag: str = "pear_tf"

    def threads(self, cores=None):
        """(intra-op, inter-op) threads for a process on a machine with ``cores`` (default: this one's)."""
        cores = available_cores() if cores is None else cores
        share = max(1, cores // max(1, self.processes or cores))
        intra = self.intra_op_threads or share
        return intra, self.inter_op_threads or intra


def claim_slot(tag, slots):
    """The lowest free slot 0..slots-1 of ``tag`` on this machine, held until the process exits (None: all taken)."""
    for slot in range(slots):
        path = os.path.join(tempfile.gettempdir(), f"{tag}-slot-{slot}.lock")
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _SLOT_LOCKS.append(handle)
        return slot
    return None


def pin_to_slot(tag, threads):
    """Pins this process to its own ``threads`` cores (slot k takes the k-th group); returns them, or None."""
    allowed = sorted(os.sched_getaffinity(0))
    slot = claim_slot(tag, max(1, len(allowed) // threads))
    if slot is None:
        return None
    cores = allowed[slot * threads : (slot + 1) * threads]
    os.sched_setaffinity(0, cores)
    return cores


def apply_to_tensorflow(intra, inter):
    """Sets TensorFlow's thread pools; False when its runtime already started (then they stay as they are)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # the context is initialized: an in-process runner after other TensorFlow work
        return False
    return True


def size_this_process(sizing):
    """Applies ``sizing`` to this process (pinning first); returns (intra-op threads, a one-line description)."""
    intra, inter = sizing.threads()
    pinned = pin_to_slot(sizing.tag, intra) if sizing.pin else None
    where = f"pinned to cores {pinned}" if pinned else f"{available_cores()} cores"
    if not apply_to_tensorflow(intra, inter):
        return intra, f"TensorFlow already running in this process ({where}): its thread pools left as they were"
    return intra, f"{intra} intra-op / {inter} inter-op threads ({where}, {sizing.processes or 'one per core'} processes)"

def processes_per_machine(options):
    """Scoring processes a Beam runner starts on each machine, from its PipelineOptions (None: one per core).

    DirectRunner: ``--direct_num_workers`` processes in multi_processing mode (0: one per core), else one
    process whose threads share the model. Dataflow: one SDK process per vCPU, or one per VM with
    ``--experiments=no_use_multiple_sdk_containers``. Portable runners (Flink, Spark): ``--sdk_worker_parallelism``
    (0: the runner's choice, taken as one per core).
    """
    from apache_beam.options.pipeline_options import DebugOptions, DirectOptions, PortableOptions, StandardOptions

    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    name = runner if isinstance(runner, str) else type(runner).__name__
    if "Direct" in name:
        direct = options.view_as(DirectOptions)
        if direct.direct_running_mode != "multi_processing":
            return 1
        return direct.direct_num_workers or None
    if "Dataflow" in name:
        experiments = options.view_as(DebugOptions).experiments or []
        return 1 if "no_use_multiple_sdk_containers" in experiments else None
    return int(options.view_as(PortableOptions).sdk_worker_parallelism or 0) or None
