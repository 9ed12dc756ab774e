"""Process-level containment the fork server applies to each child.

The fork server itself runs inside bubblewrap where that works (no network,
its own pid namespace, read-only system directories, a private /tmp). Inside,
each child additionally gets (see architecture/sandbox.md):

* its own session and process group, no controlling terminal;
* rlimits: address space, CPU seconds, file size, open files, processes, no
  core files;
* no_new_privs, so no setuid program can raise it again;
* SIGKILL when the fork server dies (PR_SET_PDEATHSIG);
* the highest OOM score, so that the kernel's OOM killer (the worker's
  memory cgroup) takes a run's process, never the fork server;
* when the server runs as root: an unprivileged uid per worker;
* where the kernel allows it (root or not): a user + pid + IPC + mount
  namespace per run, with a fresh tmpfs on /tmp and /dev/shm and a fresh
  session keyring. The run cannot see or signal the fork server, its SysV
  and POSIX IPC objects and its files die with it, and ending it is one
  SIGKILL to its pid 1.

For the last, the fork server itself lives in a user and pid namespace of
its own (enter_server_namespace): there it may give each child a fresh pid
namespace (unshare, fork, setns back), so that a run's pid 1 is forked
straight from the fork server, with no intermediate process (a fork of this
process costs about a millisecond of CPU). Its capabilities are then those
of its own user namespace only: as root it keeps none on the host.
"""

import ctypes
import ctypes.util
import os
import platform
import resource
import socket

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.syscall.restype = ctypes.c_long

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
KEYCTL_JOIN_SESSION_KEYRING = 1
_KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
_CAPABILITY_VERSION_3 = 0x20080522

# The run's files: one tmpfs, shown at /tmp and at /dev/shm, so that one
# size bounds both. A spare mounts it as large as the last request's memory
# limit; the runner remounts it only when its request's limit differs.
RUN_TMPFS_INITIAL_MB = 64
WORK_DIRECTORY = "/tmp/work"


def _check(result):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))


def unshare(flags):
    _check(_libc.unshare(flags))


def _bytes(text):
    return None if text is None else text.encode()


def mount(source, target, fstype, flags, data):
    _check(_libc.mount(_bytes(source), _bytes(target), _bytes(fstype), flags, _bytes(data)))


def protect_server():
    """The fork server: not traceable, not dumpable, adopts orphaned grandchildren."""
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def raise_oom_score():
    """The OOM killer takes this process (and what it forks) before the fork server.

    Raising one's own score needs no privilege; it is done before a root
    child changes uid (afterwards its /proc/self files belong to root)."""
    try:
        descriptor = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    except OSError:
        return
    try:
        os.write(descriptor, b"1000")
    except OSError:
        pass
    finally:
        os.close(descriptor)


def drop_privileges(uid):
    """A root fork server's child becomes `uid` for good (all capabilities go with it)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _write_identity_maps(uid, gid):
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        descriptor = os.open(f"/proc/self/{name}", os.O_WRONLY)
        try:
            os.write(descriptor, text.encode())
        finally:
            os.close(descriptor)


def _join_fresh_session_keyring():
    """A new anonymous session keyring: nothing a previous run stored in its
    session keyring is reachable. (The user keyring is per user namespace on
    current kernels, so the fresh user namespace gives a fresh one.)"""
    if _KEYCTL_SYSCALL is None:
        return False
    return _libc.syscall(_KEYCTL_SYSCALL, KEYCTL_JOIN_SESSION_KEYRING, None) >= 0


def _mount_run_tmpfs(size_mb):
    """A private tmpfs for the run at /tmp and /dev/shm (in its own mount namespace)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size_mb)}m,mode=0755")
    os.mkdir("/tmp/t", 0o1777)
    os.mkdir("/tmp/s", 0o1777)
    os.chmod("/tmp/t", 0o1777)
    os.chmod("/tmp/s", 0o1777)
    mount("/tmp/s", "/dev/shm", None, MS_BIND, None)
    # /tmp shows its own subdirectory: the tmpfs root (and /dev/shm's
    # directory in it) is out of sight below the overmount.
    mount("/tmp/t", "/tmp", None, MS_BIND, None)


def _write_full_identity_maps(pid):
    """Root's map for a user namespace it created: every uid and gid to itself.

    Written from the parent namespace (by a helper), as only a writer there
    may map more than its own uid; mapping uid 0 needs CAP_SETFCAP there."""
    for name in ("uid_map", "gid_map"):
        descriptor = os.open(f"/proc/{pid}/{name}", os.O_WRONLY)
        try:
            os.write(descriptor, b"0 0 4294967295")
        finally:
            os.close(descriptor)


def _map_helper():
    """As root: a child that waits, then maps this process's new user namespace."""
    ready_read, ready_write = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(ready_write)
        status = 1
        try:
            if os.read(ready_read, 1):
                _write_full_identity_maps(os.getppid())
                status = 0
        finally:
            os._exit(status)
    os.close(ready_read)
    return helper, ready_write


def _relay(child):
    """The original process, once the fork server runs below it: wait for it and end as it ended."""
    os.closerange(0, 65536)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def enter_server_namespace():
    """Become pid 1 of a pid namespace in a user namespace of our own (see the module docstring).

    The calling process forks the fork server and stays as a relay that
    exits as it exits; this returns in the fork server. Raises OSError
    (nothing changed) where the kernel refuses the namespaces."""
    uid, gid = os.getuid(), os.getgid()
    helper, go = _map_helper() if uid == 0 else (None, None)
    prctl(PR_SET_DUMPABLE, 1)
    try:
        unshare(CLONE_NEWUSER | CLONE_NEWPID)
    except OSError:
        if helper is not None:
            os.close(go)
            os.waitpid(helper, 0)
        raise
    if helper is None:
        _write_identity_maps(uid, gid)
    else:
        os.write(go, b"x")
        os.close(go)
        _, status = os.waitpid(helper, 0)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            raise OSError(1, "the user namespace could not be mapped")
    prctl(PR_SET_DUMPABLE, 0)
    server = os.fork()
    if server != 0:
        _relay(server)
    prctl(PR_SET_PDEATHSIG, 9)


class PidNamespaces:
    """Gives the next child of this process (pid 1 of its own) a fresh pid namespace.

    unshare(CLONE_NEWPID) sets the namespace of the children to come; setns
    back to our own right after the fork lets the next call create another."""

    def __init__(self):
        self.own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)

    def fork(self):
        unshare(CLONE_NEWPID)
        try:
            pid = os.fork()
        except BaseException:
            self._restore()
            raise
        if pid != 0:
            self._restore()
        return pid

    def close(self):
        os.close(self.own)

    def _restore(self):
        if _SETNS(self.own, CLONE_NEWPID) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))


_SETNS = _libc.setns


def enter_run_namespace(setup_socket, tmpfs, tmpfs_mb=None):
    """The user, IPC and mount namespaces of one run, in the run's pid 1.

    Fresh session keyring; a tmpfs of its own at /tmp and /dev/shm; a
    descriptor of that tmpfs goes to the fork server over `setup_socket`
    (memory accounting) when given. Raises OSError where the kernel refuses
    the namespaces."""
    uid, gid = os.getuid(), os.getgid()
    # The fork server is not dumpable, and its children inherit that; a
    # non-dumpable process's /proc/self belongs to root, so it could not
    # write its own uid_map. It becomes non-dumpable again right after, so
    # that no process of another run (same uid) can open its memory.
    prctl(PR_SET_DUMPABLE, 1)
    unshare(CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWNS)
    _write_identity_maps(uid, gid)
    prctl(PR_SET_DUMPABLE, 0)
    _join_fresh_session_keyring()
    if tmpfs:
        _mount_run_tmpfs(tmpfs_mb or RUN_TMPFS_INITIAL_MB)
    if setup_socket is not None and tmpfs:
        # Our pid as /proc numbers it (the fork server's own pid namespace numbers it otherwise).
        proc_pid = os.readlink("/proc/self").encode()
        socket.send_fds(setup_socket, [proc_pid], [os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)])


def size_run_tmpfs(memory_mb):
    """The run's tmpfs may hold at most its memory limit (the cgroup also charges its pages)."""
    mount(None, "/tmp", None, MS_REMOUNT | MS_NOSUID | MS_NODEV, f"size={int(memory_mb)}m")


class _CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapabilityData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


# Built once in the fork server (children inherit them): the runner calls
# capset on a request's critical path, and a first ctypes call costs ~0.3 ms.
_CAPSET = _libc.capset
_NO_CAPABILITIES = (ctypes.byref(_CapabilityHeader(_CAPABILITY_VERSION_3, 0)), (_CapabilityData * 2)())


def drop_capabilities():
    """The runner holds every capability of its own user namespace (it set the
    namespace up); the program gets none: it could otherwise unmount its
    tmpfs or remount it larger. With a non-zero uid and no_new_privs, no
    later execve gives them back."""
    _check(_CAPSET(*_NO_CAPABILITIES))


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


def limit_file_size(soft):
    """RLIMIT_FSIZE's soft limit for the next test: its output may pass the cap by one byte, not more."""
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
