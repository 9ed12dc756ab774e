"""Process-level containment the fork server applies to each child.

The fork server itself runs inside bubblewrap where that works (no network,
its own pid namespace, read-only system directories, a private /tmp). Inside,
each child additionally gets (see architecture/sandbox.md):

* its own session and process group, no controlling terminal;
* rlimits: address space, CPU seconds, file size, open files, processes, no
  core files;
* no_new_privs, so no setuid program can raise it again;
* SIGKILL when the fork server dies (PR_SET_PDEATHSIG);
* when the server runs as root: a dedicated unprivileged uid per worker, so a
  child can neither signal nor trace the fork server, and `kill(-1)` as that
  uid ends every process the run left behind;
* when the server is unprivileged: a new user and pid namespace per run
  (where the kernel allows it), which hides the fork server from the child.
"""

import ctypes
import ctypes.util
import os
import resource

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000


def prctl(option, value):
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def unshare(flags):
    if _libc.unshare(flags) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def protect_server():
    """The fork server: not traceable, not dumpable, adopts orphaned grandchildren."""
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def drop_privileges(uid):
    """A root fork server's child becomes `uid` for good (all capabilities go with it)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def enter_run_namespace():
    """Unprivileged servers: a user + pid namespace for this run.

    Returns the pid of the runner (in this process's namespace) to the
    intermediate process, 0 inside the runner; raises OSError where the kernel
    does not allow unprivileged namespaces.
    """
    uid, gid = os.getuid(), os.getgid()
    # The fork server is not dumpable, and its children inherit that; a
    # non-dumpable process's /proc/self belongs to root, so it could not
    # write its own uid_map. The child runs untrusted code anyway.
    prctl(PR_SET_DUMPABLE, 1)
    unshare(CLONE_NEWUSER | CLONE_NEWPID)
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
    return os.fork()


def common_child_setup():
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, 9)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def apply_run_limits(limits):
    """Limits that depend on the request, set once it has arrived."""

    def lower(kind, value):
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))

    lower(resource.RLIMIT_AS, limits["memory_mb"] * 1024 * 1024)
    lower(resource.RLIMIT_CPU, limits["cpu_seconds"])
    lower(resource.RLIMIT_FSIZE, limits["file_bytes"])
    lower(resource.RLIMIT_NOFILE, limits["open_files"])
    if limits.get("processes"):
        lower(resource.RLIMIT_NPROC, limits["processes"])
