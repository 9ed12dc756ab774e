"""The fork server's children: prepared ahead of a request, handed a run, ended.

A child is prepared (forked, sandboxed, waiting on its control pipe) while
the previous request is still being answered, so that a request only pays
for writing itself to the child:

    fork server        pid 1 of a user + pid namespace of its own
     └─ runner         forked into a fresh pid namespace (its pid 1); sets
                       up: session, rlimits, run cgroup, uid; unshares a user
                       + IPC + mount namespace, mounts the run's tmpfs, joins
                       a fresh session keyring; waits for the request, drops
                       its capabilities, runs the tests (child.py)

Ending a run is one SIGKILL to the runner: the kernel ends every process of
its pid namespace, and its IPC and mount namespaces and tmpfs go with the
last of them. The fork server never changes its uid for it (its
capabilities in its own user namespace cover the runs' namespaces below),
and no process of a run can see or signal it.

Where the kernel refuses nested user namespaces, the child runs the tests
itself, in a fresh work directory, and cleanup.py ends and cleans up after
it (a per-uid sweep as root, the process group otherwise).
"""

import gc
import json
import os
import secrets
import signal
import socket
import time

from . import child as child_module
from . import cleanup, isolation

READ_CHUNK = 1 << 16
IDLE_REAP_SECONDS = 0.005
HARNESS_FAILURE = 70


class Prepared:
    """A child and the descriptors the fork server keeps for it."""

    __slots__ = ("pid", "control", "results", "stdout", "stderr", "setup", "tmpfs", "proc_pid", "workdir")

    def __init__(self, pid, control, results, stdout, stderr, setup, workdir):
        self.pid = pid
        self.control = control
        self.results = results
        self.stdout = stdout
        self.stderr = stderr
        # Where the runner sends a descriptor of its tmpfs (memory accounting only).
        self.setup = setup
        self.tmpfs = None
        # The runner's pid as /proc numbers it (the same as `pid` without a pid namespace of ours).
        self.proc_pid = pid
        self.workdir = workdir

    def accounting_view(self):
        """(pid in /proc, tmpfs descriptor) of the run, for memory accounting: received once,
        without waiting (the runner sent them long before the request)."""
        if self.setup is not None:
            try:
                message, descriptors, _, _ = socket.recv_fds(self.setup, 32, 1, socket.MSG_DONTWAIT)
                self.tmpfs = descriptors[0] if descriptors else None
                self.proc_pid = int(message) if message.strip().isdigit() else self.proc_pid
            except OSError:
                pass
            self.setup.close()
            self.setup = None
        return self.proc_pid, self.tmpfs

    def descriptors(self):
        return [self.control, self.results, self.stdout, self.stderr, self.tmpfs]


def close(descriptor):
    if descriptor is None:
        return
    try:
        os.close(descriptor)
    except OSError:
        pass


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Children:
    def __init__(self, config):
        self.run_uid = config.get("run_uid")
        self.namespaces = bool(config.get("nested_namespaces"))
        self.run_tmpfs = self.namespaces and bool(config.get("run_tmpfs"))
        self.kill_everything = config.get("kill_mode", "group") == "all"
        self.own_pid_namespace = bool(config.get("own_pid_namespace"))
        self.work_base = config["work_base"]
        self.scrub_paths = config.get("scrub_paths", [])
        # The run cgroup's cgroup.procs (memory.py): each child joins it before it changes uid.
        self.run_procs = (config.get("memory") or {}).get("run_procs")
        self.spare = None
        self.started = 0
        self.tmpfs_mb = None  # the run tmpfs size spares are mounted with (the last request's memory_mb)
        self.pid_namespaces = isolation.PidNamespaces() if self.namespaces else None
        self.pending_cleanup = []
        self.retire = None  # why this fork server should be replaced (cleanup failed)

    # -- preparing ----------------------------------------------------------------------
    def prepare(self):
        control_read, control_write = os.pipe()
        results_read, results_write = os.pipe()
        # Output goes to memory files, not pipes: the child never blocks on
        # it, RLIMIT_FSIZE bounds it, and the server reads each test's slice
        # by the offsets the child reports (see child._output_offsets).
        stdout_file = os.memfd_create("stdout")
        stderr_file = os.memfd_create("stderr")
        accounting = self.namespaces and self.run_tmpfs and not self.run_procs
        setup_server, setup_child = socket.socketpair() if accounting else (None, None)
        workdir = self._workdir()
        pid = self.pid_namespaces.fork() if self.namespaces else os.fork()
        if pid == 0:
            self._child_main(control_read, results_write, stdout_file, stderr_file, setup_child, workdir)
        for descriptor in (control_read, results_write):
            os.close(descriptor)
        if setup_child is not None:
            setup_child.close()
        os.set_blocking(results_read, False)
        self.started += 1
        return Prepared(pid, control_write, results_read, stdout_file, stderr_file, setup_server, workdir)

    def _workdir(self):
        if self.run_tmpfs:
            return isolation.WORK_DIRECTORY
        # A fresh name per run, not guessable by the run before it: a tree
        # that could not be removed, or a name planted in advance, does not
        # stand in the next run's way.
        return os.path.join(self.work_base, f"run-{secrets.token_hex(8)}")

    def _child_main(self, control_read, results_write, stdout_file, stderr_file, setup, workdir):
        status = HARNESS_FAILURE
        try:
            self._become_child(control_read, results_write, stdout_file, stderr_file, setup, workdir)
            status = 0
        except BaseException as error:
            _report_harness_failure(error)
        finally:
            os._exit(status)

    def _become_child(self, control_read, results_write, stdout_file, stderr_file, setup, workdir):
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_file, 1)
        os.dup2(stderr_file, 2)
        keep = {0, 1, 2, control_read, results_write}
        if setup is not None:
            keep.add(setup.fileno())
        _close_all_but(keep)
        if self.run_procs:
            # The run cgroup confines the OOM killer to the run's processes.
            join_cgroup(self.run_procs)
        else:
            # Without one, the highest OOM score makes the run the kernel's first choice.
            isolation.raise_oom_score()
        isolation.common_child_setup()
        if self.run_uid is not None:
            isolation.drop_privileges(self.run_uid)
        if self.namespaces:
            isolation.enter_run_namespace(setup, self.run_tmpfs, self.tmpfs_mb)
        if setup is not None:
            setup.close()
        self._await_request(control_read, results_write, workdir)

    def _await_request(self, control_read, results_write, workdir):
        # Everything that does not depend on the request happens before it
        # arrives, while the child is still only a spare.
        os.mkdir(workdir, 0o700)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "HOME": workdir,
                "TMPDIR": workdir,
                "LANG": "C.UTF-8",
                "PYTHONIOENCODING": "utf-8",
            }
        )
        request = _read_request(control_read)
        if request is None:
            os._exit(0)
        if self.namespaces:
            if self.run_tmpfs and request["limits"]["memory_mb"] != self.tmpfs_mb:
                isolation.size_run_tmpfs(request["limits"]["memory_mb"])
            isolation.drop_capabilities()
        if not request.get("await_trace"):
            os.close(control_read)
            control_read = None
        isolation.apply_run_limits(request["limits"])
        gc.unfreeze()
        child_module.main(request, results_write, private_fds=(results_write,), control=control_read)
        os._exit(0)

    def idle_work(self):
        """Between requests: reap ended runs as they die. Returns what to wait on
        next besides the protocol: nothing, and a short timeout while runs are
        still dying."""
        self.finish_cleanup()
        return [], (IDLE_REAP_SECONDS if self.pending_cleanup else None)

    # -- taking one for a run -------------------------------------------------------------
    def take(self):
        """The spare (or a fresh child), ready to receive a run; None when none could be set up."""
        prepared, self.spare = self.spare, None
        for _ in range(2):
            if prepared is None:
                prepared = self.try_prepare()
            if prepared is not None and self._ready(prepared):
                return prepared
            if prepared is not None:
                self.end(prepared)
            prepared = None
        return None

    def try_prepare(self):
        """A new child, or None (said on stderr) when this process cannot make one now (no descriptors, no memory)."""
        try:
            return self.prepare()
        except OSError as error:
            _report_harness_failure(error)
            return None

    @staticmethod
    def _ready(prepared):
        """Still alive (a spare can die waiting: killed for memory, or its set-up failed)."""
        return not _exited(prepared.pid)

    # -- ending ----------------------------------------------------------------------------
    def end(self, prepared, defer=False):
        """Kill the child and everything it started; then reap it and clean up.

        With `defer`, only the killing happens now (nothing of the run can
        execute after it) and the reaping (and, without namespaces, the sweep
        and file removal) wait until the response has been sent."""
        if prepared.setup is not None:
            prepared.setup.close()
            prepared.setup = None
        _kill(prepared.pid)
        if not self.namespaces:
            self._kill_without_namespace(prepared)
        for descriptor in prepared.descriptors():
            close(descriptor)
        prepared.tmpfs = None
        if defer:
            self.pending_cleanup.append(prepared)
            return None
        return self._reap(prepared)

    def _kill_without_namespace(self, prepared):
        """At once, so that nothing of the run executes after it: in bwrap's own pid
        namespace kill(-1) (as root: with CAP_KILL, no change of uid; unprivileged:
        our uid is the run's) reaches only this worker's runs, as no spare exists
        while a run is on. Elsewhere the process group now, the per-uid sweep
        (root) once the child is reaped."""
        try:
            if self.kill_everything and self.own_pid_namespace:
                os.kill(-1, signal.SIGKILL)
            else:
                os.killpg(prepared.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self, prepared):
        status = _wait(prepared.pid)
        reap_orphans()
        if not self.run_tmpfs:
            # Its files are on a shared file system (no tmpfs of its own went with it).
            self._clean_after(prepared)
        return status

    def _clean_after(self, prepared):
        # With run namespaces nothing of the run outlived its pid 1 (and a
        # sweep would kill the spare).
        if not self.namespaces:
            self._sweep_leftovers()
        for path in [prepared.workdir, *self.scrub_entries()]:
            if self.spare is not None and path == self.spare.workdir:
                continue
            if not cleanup.remove_tree(self.run_uid, path):
                self.retire = f"could not remove what a run left in {path}"

    def _sweep_leftovers(self):
        if self.kill_everything and self.own_pid_namespace:
            _sweep_own_namespace()
        elif self.kill_everything:
            cleanup.sweep_uid(self.run_uid, False)

    def scrub_entries(self):
        """What runs may have left in the work base and the shared scratch directories (no-namespace fallback)."""
        found = []
        for root in [self.work_base, *self.scrub_paths]:
            try:
                names = os.listdir(root)
            except OSError:
                continue
            found.extend(os.path.join(root, name) for name in names if os.path.join(root, name) != self.work_base)
        return found

    def finish_cleanup(self):
        """Reap (and, without namespaces, clean up after) the runs ended with `defer`.

        A run's pid 1 takes a moment to die with its namespaces; with run
        namespaces nothing depends on it having died, so it is only reaped
        once it has (a zombie until then, its pid ours), never waited for."""
        pending, self.pending_cleanup = self.pending_cleanup, []
        for prepared in pending:
            if self.namespaces and not _exited(prepared.pid):
                self.pending_cleanup.append(prepared)
            else:
                self._reap(prepared)


def _sweep_own_namespace():
    """kill(-1) until the kernel finds nothing to kill, reaping what comes back to us
    (zombies count for kill(-1) until reaped); bounded in time."""
    deadline = time.monotonic() + cleanup.SWEEP_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return
        reap_orphans()
        time.sleep(0.0002)


def join_cgroup(procs):
    """Move this process into the cgroup whose cgroup.procs is `procs` ("0": the writer itself)."""
    descriptor = os.open(procs, os.O_WRONLY)
    try:
        os.write(descriptor, b"0")
    finally:
        os.close(descriptor)


# A killed run still has its exit to do (its address space, namespaces and
# tmpfs torn down: ~1 ms of kernel CPU). At the lowest priority that work
# gives way to the runs other workers are answering instead of slowing them
# (the trivial-run p50 with two workers: 5.1-6.1 ms at normal priority,
# 4.1-4.7 ms like this); nothing waits for it (see finish_cleanup).
LOWEST_NICE = 19


def _kill(pid):
    try:
        os.setpriority(os.PRIO_PROCESS, pid, LOWEST_NICE)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid):
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _wait(pid):
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:
            return None


def _close_all_but(keep):
    """Nothing else of the server's reaches the program: not the protocol pipes, not other children's pipes."""
    previous = -1
    for descriptor in sorted(keep):
        # (closerange(n, n) would close everything from n on: Python passes n - 1 as the last.)
        if descriptor > previous + 1:
            os.closerange(previous + 1, descriptor)
        previous = descriptor
    os.closerange(previous + 1, 65536)


def _read_request(descriptor):
    chunks = []
    while True:
        chunk = os.read(descriptor, READ_CHUNK)
        if not chunk:
            return None
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return json.loads(b"".join(chunks))


def _report_harness_failure(error):
    """The harness itself failed in the child: say why on its stderr, as plainly
    as possible (the formatting machinery may be what broke)."""
    try:
        import traceback

        message = traceback.format_exc()
    except BaseException:
        message = f"harness failure: {error!r}"
    try:
        os.write(2, message.encode("utf-8", "replace")[-4000:])
    except BaseException:
        pass
