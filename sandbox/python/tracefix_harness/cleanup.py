"""Cleaning up after a run where it has no namespaces of its own (the fallback).

With per-run namespaces (the normal case) there is nothing to clean: the
run's processes die with its pid 1 and its files with its tmpfs. Where the
kernel refuses nested user namespaces, the fork server instead

* ends the run's processes by a per-uid sweep (root) — `kill(-1)` as the
  run's uid, repeated until nothing is left — in a forked helper, so that the
  fork server itself never takes the run's uid and cannot be signalled by it;
* removes the run's work directory (a fresh name per run) in a forked helper
  as the run's uid, without recursion and without a descriptor per level
  (a program can nest directories deeper than PATH_MAX or than any fd
  limit), within a time bound. A tree that cannot be removed makes the fork
  server ask Node to replace it.
"""

import os
import signal
import stat
import time

from . import isolation

SWEEP_SECONDS = 2.0
REMOVE_SECONDS = 5.0


def _entries(path="."):
    try:
        return os.listdir(path)
    except OSError:
        return []


def _remove_entry(name):
    """Unlink a non-directory, or rmdir an empty directory; False when `name` is a non-empty directory."""
    try:
        mode = os.lstat(name).st_mode
    except FileNotFoundError:
        return True
    if not stat.S_ISDIR(mode):
        os.unlink(name)
        return True
    try:
        os.rmdir(name)
        return True
    except OSError:
        return False


def remove_contents(top):
    """Empty `top` (and remove nothing above it) by walking down with chdir.

    One list of names per level is kept, never a descriptor; `chdir("..")`
    climbs back, so the depth of the tree does not matter."""
    os.chdir(top)
    stack = [(None, iter(_entries()))]
    while stack:
        name = next(stack[-1][1], None)
        if name is None:
            finished, _ = stack.pop()
            if finished is not None:
                os.chdir("..")
                os.rmdir(finished)
            continue
        if _remove_entry(name):
            continue
        # A directory the program made unreadable or unwritable is its own: fix it, go in.
        os.chmod(name, stat.S_IRWXU)
        os.chdir(name)
        stack.append((name, iter(_entries())))


def _wait_helper(pid, seconds, reap_others):
    """Wait for a helper until `seconds` pass (then kill it); True when it exited 0."""
    deadline = time.monotonic() + seconds
    while True:
        if reap_others:
            _reap_orphans(pid)
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.0005)


def _reap_orphans(keep):
    """Reap whatever the fork server adopted (zombies keep kill(-1) from ever saying ESRCH), except `keep`."""
    while True:
        try:
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if found is None or found.si_pid == keep:
            return
        os.waitpid(found.si_pid, 0)


def _in_helper(uid, action):
    """Run `action` in a forked helper as `uid` (None: as we are); returns the helper's pid."""
    pid = os.fork()
    if pid != 0:
        return pid
    status = 1
    try:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, 9)
        if uid is not None:
            isolation.drop_privileges(uid)
        status = 0 if action() else 1
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _sweep(uid, own_pid_namespace):
    for attempt in range(10_000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return True
        if not own_pid_namespace and not uid_processes(uid):
            return True
        time.sleep(0.0002 * min(attempt + 1, 10))
    return False


def uid_processes(uid):
    """Pids (other than ours) running as `uid`."""
    mine = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == mine:
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(name))
                        break
        except OSError:
            continue
    return found


def sweep_uid(uid, own_pid_namespace):
    """SIGKILL every process of `uid`, from a helper running as `uid`; True when none is left."""
    helper = _in_helper(uid, lambda: _sweep(uid, own_pid_namespace))
    return _wait_helper(helper, SWEEP_SECONDS, reap_others=True)


def make_directory(uid, path):
    """`path` (and its parents), owned by `uid`: made by a helper as `uid` (the fork server may not chown)."""

    def make():
        os.makedirs(path, mode=0o700, exist_ok=True)
        return True

    helper = _in_helper(uid, make)
    return _wait_helper(helper, REMOVE_SECONDS, reap_others=False)


def remove_tree(uid, path):
    """Remove `path` and everything in it, as `uid`, within REMOVE_SECONDS; True when it is gone."""

    def remove():
        if os.path.lexists(path):
            if os.path.isdir(path) and not os.path.islink(path):
                remove_contents(path)
                os.chdir("/")
                os.rmdir(path)
            else:
                os.unlink(path)
        return True

    helper = _in_helper(uid, remove)
    return _wait_helper(helper, REMOVE_SECONDS, reap_others=False) and not os.path.lexists(path)
