"""The memory of a run as a whole (RLIMIT_AS only bounds each process).

Two ways, decided by Node at start-up (config `memory.mode`):

* `cgroup-v1` / `cgroup-v2`: the worker lives in a memory cgroup whose limit
  Node sets before each job (the job's memory_mb plus the worker's idle
  use). The kernel charges every page of the run (processes, tmpfs, SysV
  shared memory) and its OOM killer ends a run process when the run passes
  the limit (children carry the highest OOM score, the fork server does
  not). The fork server reads the cgroup's OOM-kill counter (bound read-only
  into the sandbox) around each test to tell which test it hit.
* `accounting`: no cgroup can be used (unprivileged, no delegation). The
  fork server samples, every few milliseconds while a test runs, the
  resident anonymous and shared memory of the run's processes plus what its
  tmpfs holds, and ends the run over the limit. Coarser: pages shared
  between processes count once per process that maps them, SysV segments
  nobody maps are not seen, and neither is a burst between two samples.
"""

import os


class OomCounter:
    """The worker cgroup's `oom_kill` count, or None where there is no cgroup."""

    def __init__(self, path):
        self.descriptor = None
        if path:
            try:
                self.descriptor = os.open(path, os.O_RDONLY)
            except OSError:
                self.descriptor = None

    def read(self):
        if self.descriptor is None:
            return None
        try:
            data = os.pread(self.descriptor, 4096, 0)
        except OSError:
            return None
        for line in data.splitlines():
            name, _, value = line.partition(b" ")
            if name == b"oom_kill":
                return int(value)
        return None


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # The command is in parentheses and may contain anything, spaces included.
    fields = data[data.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


def run_processes(root):
    """`root` and every process below it (a run's pid 1 adopts all its orphans)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            parent = _parent_of(name)
            if parent is not None:
                children.setdefault(parent, []).append(int(name))
    found = [root]
    for pid in found:
        found.extend(children.get(pid, ()))
    return found


def _resident(pid):
    """Resident anonymous and shared-memory bytes (SysV segments, memfds, tmpfs it maps)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return 0
    total = 0
    for line in lines:
        if line.startswith((b"RssAnon:", b"RssShmem:")):
            total += int(line.split()[1]) * 1024
    return total


def _tmpfs_used(descriptor):
    if descriptor is None:
        return 0
    try:
        status = os.fstatvfs(descriptor)
    except OSError:
        return 0
    return (status.f_blocks - status.f_bfree) * status.f_frsize


class RunAccounting:
    """Samples a run's memory (accounting mode); `over()` says when it passed its limit."""

    def __init__(self, limit_mb, root, tmpfs):
        self.limit = limit_mb << 20
        self.root = root
        self.tmpfs = tmpfs

    def used(self):
        total = _tmpfs_used(self.tmpfs)
        for pid in run_processes(self.root):
            total += _resident(pid)
        return total

    def over(self):
        return self.used() > self.limit
