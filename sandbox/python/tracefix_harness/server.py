"""The fork server: one warm Python process that forks a child per candidate run.

Protocol with the tracefix server (Node): one JSON object per line on the
descriptors given at start; requests {"id", "op": "run" | "ping", ...},
responses {"id", "ok", "report" | "error" | "info"}.

A run = one program and its tests. The tests run in a pre-forked child, in
order; the server starts each test's clock when the child says it starts, and
kills the child (and everything it started) when a test passes its deadline,
writes too much, or breaks the protocol. Tests after a killed one continue in
a fresh child. Failing tests are then re-run traced in another child.
"""

import ast
import gc
import json
import os
import secrets
import select
import shutil
import signal
import stat
import sys
import time

from . import child as child_module
from . import compare, isolation, values

READ_CHUNK = 1 << 16
MAX_FRAME_BYTES = 64 << 20
START_GRACE_SECONDS = 5.0  # a child that never starts its first test is broken
TRACE_REPLAY_ALLOWANCE = 2.5
TRACED_TIMEOUT_CAP = 1.0


class Cancelled(Exception):
    """Node asked to stop the run in progress (its client went away)."""


class ProtocolReader:
    """Request lines from Node, read without blocking so that a run can watch for `cancel`."""

    def __init__(self, descriptor):
        self.descriptor = descriptor
        self.buffer = bytearray()
        self.lines = []
        self.closed = False

    def fill(self):
        try:
            chunk = os.read(self.descriptor, READ_CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self.closed = True
            return
        self.buffer.extend(chunk)
        while True:
            newline = self.buffer.find(b"\n")
            if newline < 0:
                break
            self.lines.append(bytes(self.buffer[:newline]))
            del self.buffer[: newline + 1]

    def next_line(self):
        """Blocks until a line arrives; None at end of input."""
        while not self.lines:
            if self.closed:
                return None
            select.select([self.descriptor], [], [])
            self.fill()
        return self.lines.pop(0)

    def take_cancel(self, identifier):
        """True (and the line consumed) when a cancel for `identifier` has arrived."""
        for position, line in enumerate(self.lines):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("op") == "cancel" and message.get("id") == identifier:
                del self.lines[position]
                return True
        return False


class Prepared:
    __slots__ = ("pid", "control", "results", "stdout", "stderr")

    def __init__(self, pid, control, results, stdout, stderr):
        self.pid = pid
        self.control = control
        self.results = results
        self.stdout = stdout
        self.stderr = stderr


class TestOutput:
    """One test's output: a slice of the child's stdout and stderr files."""

    __slots__ = ("stdout", "stderr", "total", "truncated")

    def __init__(self, stdout=b"", stderr=b"", total=0, truncated=False):
        self.stdout = stdout
        self.stderr = stderr
        self.total = total
        self.truncated = truncated

    @classmethod
    def read(cls, child, start, end, cap):
        """Bytes written between `start` and `end` offsets; None ends mean "as far as written"."""
        slices = []
        total = 0
        for position, descriptor in enumerate((child.stdout, child.stderr)):
            begin = start[position] if start and start[position] is not None else 0
            stop = end[position] if end and end[position] is not None else None
            if stop is None:
                try:
                    stop = os.fstat(descriptor).st_size
                except OSError:
                    stop = begin
            length = max(0, stop - begin)
            total += length
            try:
                slices.append(os.pread(descriptor, min(length, cap), begin) if length else b"")
            except OSError:
                slices.append(b"")
        return cls(slices[0], slices[1], total, total > cap)


def _close(descriptor):
    try:
        os.close(descriptor)
    except OSError:
        pass


def _remove_tree(path):
    """Remove what a run wrote, including files it made unreadable."""

    def retry(function, target, _error):
        try:
            parent = os.path.dirname(target)
            os.chmod(parent, stat.S_IRWXU)
            if os.path.isdir(target) and not os.path.islink(target):
                os.chmod(target, stat.S_IRWXU)
            function(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)


class ForkServer:
    def __init__(self, config, protocol_in, protocol_out):
        self.config = config
        self.protocol = ProtocolReader(protocol_in)
        os.set_blocking(protocol_in, False)
        self.protocol_out = protocol_out
        self.current_request = None
        self.run_uid = config.get("run_uid")
        self.nested = bool(config.get("nested_namespaces"))
        self.kill_everything = config.get("kill_mode", "group") == "all"
        self.own_pid_namespace = bool(config.get("own_pid_namespace"))
        self.work_base = config["work_base"]
        self.scrub_paths = config.get("scrub_paths", [])
        self.prepared = None
        self.children_started = 0
        self.nested_failed = False
        self.pending_cleanup = []
        self.lingering = None
        self.memory_mb = None
        self.output_bytes = None

    # -- identity switching (root servers only) ---------------------------------
    def _as_run_user(self, action):
        if self.run_uid is None:
            return action()
        os.setresgid(self.run_uid, self.run_uid, 0)
        os.setresuid(self.run_uid, self.run_uid, 0)
        try:
            return action()
        finally:
            os.setresuid(0, 0, 0)
            os.setresgid(0, 0, 0)

    # -- children -----------------------------------------------------------------
    def prepare(self):
        control_read, control_write = os.pipe()
        results_read, results_write = os.pipe()
        # Output goes to memory files, not pipes: the child never blocks on
        # it, RLIMIT_FSIZE bounds it, and the server reads each test's slice
        # by the offsets the child reports (see child._output_offsets).
        stdout_file = os.memfd_create("stdout")
        stderr_file = os.memfd_create("stderr")
        pid = os.fork()
        if pid == 0:
            status = 70
            try:
                self._become_child(control_read, results_write, stdout_file, stderr_file)
                status = 0
            except BaseException as error:
                # The harness itself failed in the child: say why on its stderr,
                # as plainly as possible (the formatting machinery may be what broke).
                try:
                    import traceback

                    message = traceback.format_exc()
                except BaseException:
                    message = f"harness failure: {error!r}"
                try:
                    os.write(2, message.encode("utf-8", "replace")[-4000:])
                except BaseException:
                    pass
            finally:
                os._exit(status)
        for descriptor in (control_read, results_write):
            os.close(descriptor)
        os.set_blocking(results_read, False)
        self.children_started += 1
        return Prepared(pid, control_write, results_read, stdout_file, stderr_file)

    def _become_child(self, control_read, results_write, stdout_file, stderr_file):
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_file, 1)
        os.dup2(stderr_file, 2)
        keep = sorted({0, 1, 2, control_read, results_write})
        # Nothing else of the server's reaches the program: not the protocol
        # pipes, not other children's pipes.
        previous = 2
        for descriptor in keep[3:]:
            os.closerange(previous + 1, descriptor)
            previous = descriptor
        os.closerange(previous + 1, 65536)
        isolation.common_child_setup()
        if self.run_uid is not None:
            isolation.drop_privileges(self.run_uid)
        if self.nested:
            runner = isolation.enter_run_namespace()
            if runner != 0:
                self._wait_for_runner(runner)
        # Everything that does not depend on the request happens before it
        # arrives, while the child is still only a spare.
        workdir = os.path.join(self.work_base, "run")
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
        request = self._read_request(control_read)
        if request is None:
            os._exit(0)
        if not request.get("await_trace"):
            os.close(control_read)
            control_read = None
        isolation.apply_run_limits(request["limits"])
        gc.unfreeze()
        child_module.main(request, results_write, private_fds=(results_write,), control=control_read)
        os._exit(0)

    @staticmethod
    def _wait_for_runner(runner):
        """The intermediate process of a nested-namespace run: mirror the runner's end."""
        os.closerange(0, 65536)
        while True:
            try:
                _, status = os.waitpid(runner, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)

    @staticmethod
    def _read_request(descriptor):
        chunks = []
        while True:
            chunk = os.read(descriptor, READ_CHUNK)
            if not chunk:
                return None
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return json.loads(b"".join(chunks))

    def _take_child(self):
        prepared, self.prepared = self.prepared, None
        if prepared is not None:
            try:
                finished, _ = os.waitpid(prepared.pid, os.WNOHANG)
            except ChildProcessError:
                finished = prepared.pid
            if finished == 0:
                return prepared
            self._close_child(prepared)
        return self.prepare()

    def _close_child(self, prepared):
        for descriptor in (prepared.control, prepared.results, prepared.stdout, prepared.stderr):
            _close(descriptor)

    def _end_child(self, prepared, defer=False):
        """Kill the child and everything it started; then reap and remove its files.

        With `defer`, only the killing happens now (nothing of the run can
        execute after it) and the slower reaping and file removal wait until
        the response has been sent (finish_cleanup).
        """
        if self.kill_everything:
            # One kill(-1) now: nothing of the run can execute after it. The
            # loop that also catches a process forked at that very moment
            # runs in _reap_and_scrub, before the next request is served.
            self._as_run_user(self._kill_once)
        else:
            try:
                os.killpg(prepared.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.kill(prepared.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._close_child(prepared)
        if defer:
            self.pending_cleanup.append(prepared.pid)
            return None
        return self._reap_and_scrub(prepared.pid)

    def _reap_and_scrub(self, pid):
        status = None
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        if self.kill_everything:
            self._as_run_user(self._kill_all)
        self._reap_orphans()
        self._as_run_user(self._scrub)
        return status

    def finish_cleanup(self):
        while self.pending_cleanup:
            self._reap_and_scrub(self.pending_cleanup.pop())

    @staticmethod
    def _kill_once():
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _kill_all(self):
        """SIGKILL every process this uid may signal, until there is none.

        In our own pid namespace, or as a uid only this worker uses, every
        such process belongs to the run. One kill(-1) can miss a process
        being forked at that moment, so it is repeated (reaping the orphans
        that come to us as subreaper) until the kernel finds nothing to kill.
        """
        for attempt in range(1000):
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                return
            self._reap_orphans()
            # Outside a pid namespace of our own, kill(-1) counts every host
            # process it tried (even those it may not signal) and never says
            # ESRCH: look in /proc for what is left instead.
            if not self.own_pid_namespace and not self._run_user_processes():
                return
            time.sleep(0.0002 * min(attempt + 1, 10))

    def _run_user_processes(self):
        """Pids (other than ours) running as this worker's run uid."""
        mine = os.getpid()
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == mine:
                continue
            try:
                with open(f"/proc/{name}/status", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"Uid:"):
                            if int(line.split()[1]) == self.run_uid:
                                found.append(int(name))
                            break
            except OSError:
                continue
        return found

    @staticmethod
    def _reap_orphans():
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def _scrub(self):
        for root in [self.work_base, *self.scrub_paths]:
            try:
                entries = os.listdir(root)
            except OSError:
                continue
            for name in entries:
                path = os.path.join(root, name)
                if root != self.work_base and os.path.abspath(path) == os.path.abspath(self.work_base):
                    continue
                try:
                    if os.path.isdir(path) and not os.path.islink(path):
                        _remove_tree(path)
                    else:
                        os.unlink(path)
                except OSError:
                    pass

    # -- one pass over a list of tests in as many children as it takes ----------------
    def deadlines_for(self, tests, timeout, traced, results):
        """Per test: (soft deadline the child enforces on itself, hard deadline the server enforces)."""
        deadlines = {}
        for test in tests:
            if traced:
                soft = timeout
                if results.get(test["index"], {}).get("status") == "timeout":
                    soft = min(timeout, TRACED_TIMEOUT_CAP)
                deadlines[test["index"]] = (soft, soft + TRACE_REPLAY_ALLOWANCE)
            else:
                deadlines[test["index"]] = (None, timeout)
        return deadlines

    @staticmethod
    def _send(descriptor, message):
        try:
            data = (json.dumps(message) + "\n").encode()
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        except OSError:
            pass

    def run_pass(self, request, tests, traced, results, keep_alive=False):
        """Runs `tests` in as many children as it takes. With `keep_alive`, a
        child that finishes all its tests stays, waiting, in self.lingering:
        the traced re-run can then use it instead of forking another."""
        limits = request["limits"]
        timeout = limits["timeout_ms"] / 1000.0
        pending = list(tests)
        trace = request.get("trace") or {}
        while pending:
            self.finish_cleanup()
            child = self._take_child()
            key = secrets.token_hex(16)
            deadlines = self.deadlines_for(pending, timeout, traced, results)
            message = {
                "channel_key": key,
                "code": request["code"],
                "entry_point": request.get("entry_point"),
                "tests": [self.child_view(test) for test in pending],
                "traced": traced,
                "trace": trace,
                "limits": self.child_limits(limits, len(pending), traced, trace if keep_alive else None),
                "await_trace": keep_alive,
            }
            if traced:
                message["soft_deadline_seconds"] = max(deadlines[test["index"]][0] for test in pending)
            self._send(child.control, message)
            if not keep_alive:
                _close(child.control)
            pending = self.supervise(child, pending, deadlines, limits, traced, results, key, keep_alive=keep_alive)

    def trace_in_lingering(self, request, tests, results):
        """Re-runs `tests` traced in the child that ran them untraced; returns the ones it did not get to."""
        child, key = self.lingering
        self.lingering = None
        limits = request["limits"]
        deadlines = self.deadlines_for(tests, limits["timeout_ms"] / 1000.0, True, results)
        command = {
            "trace": [self.child_view(test) for test in tests],
            "soft_deadline_seconds": max(deadlines[test["index"]][0] for test in tests),
        }
        self._send(child.control, command)
        _close(child.control)
        return self.supervise(child, tests, deadlines, limits, True, results, key)

    @staticmethod
    def child_view(test):
        view = {key: test[key] for key in ("index", "kind", "args", "kwargs", "input", "stdin", "code") if key in test}
        if "output_source" in test:
            view["output_source"] = test["output_source"]
        return view

    @staticmethod
    def child_limits(limits, test_count, traced, later_trace=None):
        per_test = limits["timeout_ms"] / 1000.0 + (TRACE_REPLAY_ALLOWANCE if traced else 0)
        cpu_seconds = per_test * test_count
        if later_trace is not None:
            # The child may go on to re-run its failing tests traced.
            cpu_seconds += int(later_trace.get("max_tests", 3)) * (limits["timeout_ms"] / 1000.0 + TRACE_REPLAY_ALLOWANCE)
        return {
            "memory_mb": limits["memory_mb"],
            "cpu_seconds": int(cpu_seconds) + 2,
            # Bounds every file the program writes, its stdout and stderr
            # files included (all the tests of a child share them).
            "file_bytes": min(256 << 20, max(16 << 20, limits["output_bytes"] * (test_count + 1))),
            "open_files": 64,
            "processes": limits.get("processes", 64),
        }

    def supervise(self, child, tests, deadlines, limits, traced, results, key, keep_alive=False):
        """Follow one child through its tests; returns the tests it did not get to."""
        by_index = {test["index"]: test for test in tests}
        order = [test["index"] for test in tests]
        cap = limits["output_bytes"]
        poller = select.poll()
        poller.register(child.results, select.POLLIN)
        poller.register(self.protocol.descriptor, select.POLLIN)
        frames = bytearray()
        current = None
        started_at = None  # output offsets when the current test started
        output = TestOutput()
        deadline = time.monotonic() + START_GRACE_SECONDS
        finished = set()
        ended = None  # why the child stopped: ("done" | "timeout" | "protocol" | "died" | "cancelled", detail)
        results_open = True

        while ended is None:
            wait = max(0.0, deadline - time.monotonic())
            events = poller.poll(wait * 1000)
            if not events and time.monotonic() >= deadline:
                ended = ("timeout", None) if current is not None else ("died", "the child never started its tests")
                break
            for descriptor, _ in events:
                if descriptor == self.protocol.descriptor:
                    self.protocol.fill()
                    if self.protocol.closed:
                        poller.unregister(descriptor)
                    if self.protocol.take_cancel(self.current_request) or self.protocol.closed:
                        ended = ("cancelled", None)
                    continue
                while True:
                    try:
                        chunk = os.read(child.results, READ_CHUNK)
                    except BlockingIOError:
                        break
                    except OSError:
                        chunk = b""
                    if not chunk:
                        results_open = False
                        poller.unregister(child.results)
                        break
                    frames.extend(chunk)
                    if len(frames) > MAX_FRAME_BYTES:
                        ended = ("protocol", "the harness channel overflowed")
                        break
            while ended is None:
                newline = frames.find(b"\n")
                if newline < 0:
                    break
                line = bytes(frames[:newline])
                del frames[: newline + 1]
                try:
                    frame = json.loads(line)
                    kind = frame["t"]
                    signed = frame.get("k") == key
                except (ValueError, KeyError, TypeError, AttributeError):
                    signed = False
                if not signed:
                    ended = ("protocol", "the program wrote to the harness's private channel")
                    break
                if kind == "start":
                    current = frame.get("i")
                    if current not in by_index or current in finished:
                        ended = ("protocol", "the program wrote to the harness's private channel")
                        break
                    started_at = frame.get("o")
                    deadline = time.monotonic() + deadlines[current][1]
                elif kind == "result":
                    if frame.get("i") != current:
                        ended = ("protocol", "the program wrote to the harness's private channel")
                        break
                    output = TestOutput.read(child, started_at, frame.get("o"), cap)
                    self.record(by_index[current], frame, output, traced, results)
                    finished.add(current)
                    current = None
                    deadline = time.monotonic() + START_GRACE_SECONDS
                elif kind == "done":
                    ended = ("done", None)
                    break
            if ended is None and not results_open:
                ended = ("died", None)
        reason, detail = ended
        if current is not None:
            # What the test wrote before it ended belongs to its report (a
            # crash's own traceback among it).
            output = TestOutput.read(child, started_at, None, cap)
        if reason == "done" and keep_alive:
            # It finished its tests and waits: the traced re-run may use it.
            self.lingering = (child, key)
            return [by_index[index] for index in order if index not in finished and index != current]
        # Whatever happened, the child and its descendants go now. A child
        # that finished normally is reaped after the response; one that died
        # is reaped at once, its exit status tells what happened.
        if keep_alive:
            _close(child.control)
        status = self._end_child(child, defer=reason in ("done", "cancelled"))
        if reason == "cancelled":
            raise Cancelled()
        remaining = [index for index in order if index not in finished]
        if reason == "done":
            return [by_index[index] for index in remaining if index != current]
        victim = current if current is not None else (remaining[0] if remaining else None)
        if victim is None:
            return []
        if not (traced and victim in results):
            if output.truncated:
                reason = "output"  # the program wrote past the cap, whatever ended it
            results[victim] = self.failure_for(reason, detail, status, by_index[victim], output, limits)
        return [by_index[index] for index in remaining if index != victim]

    # -- verdicts ------------------------------------------------------------------------
    @staticmethod
    def failure_for(reason, detail, status, test, output, limits):
        result = {
            "index": test["index"],
            "kind": test["kind"],
            "stdout": output.stdout.decode("utf-8", "replace"),
            "stderr": output.stderr.decode("utf-8", "replace"),
            "output_truncated": output.truncated,
            "expected": test.get("expected_repr"),
            "actual": None,
            "error": None,
            "steps": None,
            "duration_ms": None,
        }
        if reason == "timeout":
            result["status"] = "timeout"
            result["error"] = {
                "type": "Timeout",
                "message": f"the test ran longer than {limits['timeout_ms']} ms",
                "line": None,
            }
            return result
        if reason == "output":
            result["status"] = "output_limit"
            result["error"] = {
                "type": "OutputLimit",
                "message": f"the program wrote more than {limits['output_bytes']} bytes",
                "line": None,
            }
            return result
        if reason == "protocol":
            result["status"] = "runtime_error"
            result["error"] = {"type": "SandboxViolation", "message": detail, "line": None}
            return result
        # The child died without reporting: how it died says what happened.
        message = detail or "the program ended before reporting a result"
        status_name = "runtime_error"
        error_type = "ProcessExit"
        if status is not None and os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            if number == signal.SIGXCPU:
                status_name, error_type = "timeout", "Timeout"
                message = "the program used up its CPU time"
            elif number == signal.SIGXFSZ:
                status_name, error_type = "output_limit", "OutputLimit"
                message = "the program wrote a file larger than allowed"
            elif number == signal.SIGSEGV:
                error_type = "Crash"
                message = "the program crashed with SIGSEGV (often a stack overflow from deep recursion)"
            else:
                error_type = "Crash"
                message = f"the program was killed by {name}"
        elif status is not None and os.WIFEXITED(status):
            message = (
                f"the program exited with status {os.WEXITSTATUS(status)} before its test finished "
                "(os._exit or a similar exit does not count as passing)"
            )
        result["status"] = status_name
        result["error"] = {"type": error_type, "message": message, "line": None}
        return result

    def record(self, test, frame, output, traced, results):
        index = test["index"]
        if traced:
            # The verdict comes from the untraced run; the traced one adds the trace.
            existing = results.get(index)
            trace = frame.get("trace")
            if existing is not None and trace is not None:
                existing["trace"] = trace
                existing["steps"] = trace.get("total_steps")
                if trace.get("total_steps") is None and trace.get("steps_at_least") is not None:
                    existing["steps_at_least"] = trace["steps_at_least"]
            return
        outcome = frame.get("outcome")
        stdout = output.stdout.decode("utf-8", "replace")
        result = {
            "index": index,
            "kind": test["kind"],
            "stdout": stdout,
            "stderr": output.stderr.decode("utf-8", "replace"),
            "output_truncated": output.truncated,
            "expected": None,
            "actual": None,
            "error": frame.get("error"),
            "steps": None,
            "duration_ms": frame.get("duration_ms"),
        }
        if output.truncated and outcome != "syntax":
            result["status"] = "output_limit"
            result["error"] = {
                "type": "OutputLimit",
                "message": f"the program wrote more than {self.output_bytes} bytes",
                "line": None,
            }
            results[index] = result
            return
        if outcome == "syntax":
            result["status"] = "syntax_error"
        elif outcome == "memory":
            result["status"] = "memory_limit"
            if result["error"] is not None:
                result["error"]["message"] = f"the program ran out of memory (limit {self.memory_mb} MB)"
        elif outcome == "timeout":
            result["status"] = "timeout"
        elif outcome in ("error", "test_error"):
            result["status"] = "runtime_error"
            assertion = (frame.get("error") or {}).get("assertion")
            if assertion is not None:
                result["status"] = "wrong_answer"
                result["expected"] = assertion.get("right")
                result["actual"] = assertion.get("left")
            elif test["kind"] == "assert" and (frame.get("error") or {}).get("type") == "AssertionError":
                result["status"] = "wrong_answer"
        elif outcome == "returned":
            result["status"] = self.judge(test, frame, stdout, output, result)
        else:
            result["status"] = "runtime_error"
            result["error"] = {"type": "SandboxViolation", "message": "unknown outcome", "line": None}
        if test["kind"] == "call" and result["expected"] is None:
            result["expected"] = test.get("expected_repr")
        results[index] = result

    @staticmethod
    def judge(test, frame, stdout, output, result):
        kind = test["kind"]
        if kind == "call":
            result["actual"] = frame.get("actual_repr")
            if "expected_canonical" in test:
                expected = test["expected_canonical"]
                result["expected"] = test.get("expected_repr")
            elif "expected" in frame:
                expected = frame["expected"]
                result["expected"] = frame.get("expected_repr")
            else:
                return "passed"  # a call without an expected value only has to return
            same = compare.equal(
                expected,
                frame.get("actual"),
                test.get("rel_tol", compare.DEFAULT_RELATIVE_TOLERANCE),
                test.get("abs_tol", compare.DEFAULT_ABSOLUTE_TOLERANCE),
            )
            return "passed" if same else "wrong_answer"
        if kind == "stdio":
            if output.truncated:
                return "output_limit"
            if "stdout" not in test:
                return "passed"
            result["expected"] = test["stdout"]
            result["actual"] = stdout
            return "passed" if compare.normalize_output(stdout) == compare.normalize_output(test["stdout"]) else "wrong_answer"
        return "passed"

    # -- requests ------------------------------------------------------------------------
    @staticmethod
    def prepare_tests(request):
        """Expected values that are plain data are made canonical here, outside any child."""
        tests = []
        for index, test in enumerate(request["tests"]):
            test = dict(test)
            test["index"] = index
            if test["kind"] == "call":
                if "expected" in test:
                    test["expected_canonical"] = values.canonical(test["expected"])
                    test["expected_repr"] = values.bounded_repr(test["expected"], child_module.VALUE_LIMIT)
                elif "output" in test:
                    try:
                        literal = ast.literal_eval(test["output"])
                    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                        test["output_source"] = test["output"]
                    else:
                        test["expected_canonical"] = values.canonical(literal)
                        test["expected_repr"] = values.bounded_repr(literal, child_module.VALUE_LIMIT)
            tests.append(test)
        return tests

    def execute(self, request):
        started = time.monotonic()
        self.memory_mb = request["limits"]["memory_mb"]
        self.output_bytes = request["limits"]["output_bytes"]
        tests = self.prepare_tests(request)
        results = {}
        trace = request.get("trace") or {}
        mode = trace.get("mode", "failing")
        self.lingering = None
        self.run_pass(request, tests, traced=False, results=results, keep_alive=mode != "none")
        selected = []
        if mode != "none":
            selected = [
                test
                for test in tests
                if mode == "all"
                or results.get(test["index"], {}).get("status") not in ("passed", "syntax_error", None)
            ]
            selected = selected[: int(trace.get("max_tests", 3))]
        if selected and self.lingering is not None:
            # The same child re-runs its failing tests traced: no second fork.
            # (It keeps the module state the earlier tests left, as tests of
            # one child always do.)
            selected = self.trace_in_lingering(request, selected, results)
        if selected:
            self.run_pass(request, selected, traced=True, results=results)
        if self.lingering is not None:
            child, _ = self.lingering
            self.lingering = None
            _close(child.control)
            self._end_child(child, defer=True)
        ordered = [results[test["index"]] for test in tests]
        passed = sum(1 for result in ordered if result["status"] == "passed")
        return {
            "status": "passed" if passed == len(ordered) else "failed",
            "passed": passed,
            "total": len(ordered),
            "tests": ordered,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
        }

    def check_syntax(self, source):
        """Does `source` compile? Decided in a throwaway child: compile() on
        hostile input can exhaust the stack, and this process must not."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            answer = {"ok": True}
            try:
                import resource

                isolation.common_child_setup()
                if self.run_uid is not None:
                    isolation.drop_privileges(self.run_uid)
                resource.setrlimit(resource.RLIMIT_CPU, (2, 2))
                resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
                compile(source, "<candidate>", "exec")
            except SyntaxError as error:
                answer = {"ok": False, "message": str(error.msg), "line": error.lineno}
            except BaseException as error:  # too deep, too big: not a program we can run
                answer = {"ok": False, "message": f"{type(error).__name__}: {error}", "line": None}
            os.write(write_end, json.dumps(answer).encode())
            os._exit(0)
        os.close(write_end)
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read_end, READ_CHUNK)
            if not chunk:
                break
            data += chunk
        os.close(read_end)

        def stop_child():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        # As root without CAP_KILL, only the run's own uid may signal its processes.
        self._as_run_user(stop_child)
        os.waitpid(pid, 0)
        try:
            return json.loads(data)
        except ValueError:
            return {"ok": False, "message": "the program could not be compiled", "line": None}

    def info(self):
        return {
            "python": ".".join(map(str, sys.version_info[:3])),
            "implementation": sys.implementation.name,
            "tracer": "monitoring" if sys.version_info >= (3, 12) else "settrace",
            "run_uid": self.run_uid,
            "nested_namespaces": self.nested and not self.nested_failed,
            "pid": os.getpid(),
        }

    def respond(self, message):
        data = (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.protocol_out, view) :]

    def serve(self, once=False):
        """Answer requests until the input ends; with `once`, one run and no spare child (a baseline)."""
        if not once:
            self.prepared = self.prepare()
        self.respond({"id": 0, "ok": True, "info": self.info()})
        while True:
            line = self.protocol.next_line()
            if line is None:
                return
            try:
                request = json.loads(line)
            except ValueError:
                self.respond({"id": None, "ok": False, "error": {"code": "malformed", "message": "malformed request line"}})
                continue
            identifier = request.get("id")
            operation = request.get("op")
            if operation == "cancel":
                continue  # the run it meant has already ended
            try:
                if operation == "ping":
                    self.respond({"id": identifier, "ok": True, "info": self.info()})
                    continue
                if operation == "syntax":
                    self.respond({"id": identifier, "ok": True, "syntax": self.check_syntax(request.get("code", ""))})
                    continue
                self.current_request = identifier
                report = self.execute(request)
                self.respond({"id": identifier, "ok": True, "report": report})
            except Cancelled:
                self.respond({"id": identifier, "ok": False, "error": {"code": "cancelled", "message": "cancelled"}})
            except Exception as error:  # the server must answer, whatever broke
                import traceback

                self.respond(
                    {
                        "id": identifier,
                        "ok": False,
                        "error": {
                            "code": "harness_error",
                            "message": f"{type(error).__name__}: {error}",
                            "traceback": traceback.format_exc(),
                        },
                    }
                )
            finally:
                self.current_request = None
                if self.lingering is not None:
                    # A run that ended abnormally may have left its waiting child.
                    child, _ = self.lingering
                    self.lingering = None
                    _close(child.control)
                    self._end_child(child, defer=True)
            self.finish_cleanup()
            if once:
                return
            if self.prepared is None:
                self.prepared = self.prepare()


# Imported once by the fork server, shared copy-on-write by every child: the
# modules programs (and the harness's own error reports) use most. It also
# matters where children run as a uid that cannot read the interpreter's
# directory (rlimits-only mode as root, interpreter under /root).
PRELOADED_MODULES = (
    "abc array bisect cmath collections collections.abc copy dataclasses datetime decimal enum fractions "
    "functools hashlib heapq io itertools json linecache math numbers operator queue random re string "
    "statistics struct textwrap tokenize typing"
).split()


def _preload():
    import importlib

    for name in PRELOADED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _nested_namespaces_work(run_uid):
    """Probe once: may a child of this server create its own user + pid namespace?"""
    pid = os.fork()
    if pid == 0:
        try:
            if run_uid is not None:
                isolation.drop_privileges(run_uid)
            runner = isolation.enter_run_namespace()
            if runner == 0:
                os._exit(0 if os.getpid() == 1 else 1)
            _, status = os.waitpid(runner, 0)
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # The protocol gets its own descriptors; 0 and 1 become /dev/null so that
    # nothing a child inherits can reach Node.
    protocol_in = os.dup(0)
    protocol_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    isolation.protect_server()
    _preload()
    if config.get("nested_namespaces") and not _nested_namespaces_work(config.get("run_uid")):
        config["nested_namespaces"] = False
    server = ForkServer(config, protocol_in, protocol_out)
    work_base = config["work_base"]

    def make_base():
        os.makedirs(work_base, mode=0o700, exist_ok=True)

    server._as_run_user(make_base)
    if server.kill_everything:
        # A previous fork server of this slot may have left processes behind
        # (it was killed with its runs); they go before this one serves.
        server._as_run_user(server._kill_all)
    server._as_run_user(server._scrub)
    # Children share the server's imported modules copy-on-write.
    gc.collect()
    gc.freeze()
    server.serve(once=bool(config.get("once")))
