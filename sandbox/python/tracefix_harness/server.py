"""The fork server: one warm Python process that forks a child per candidate run.

Protocol with the tracefix server (Node): one JSON object per line on the
descriptors given at start; requests {"id", "op": "run" | "ping" | "syntax" |
"edits" | "cancel", ...}, responses {"id", "ok", "report" | "error" | "info" |
"syntax" | "edits"}, and, unasked, {"id": null, "retire": reason} when this fork
server can no longer promise a clean run and should be replaced.

A run = one program and its tests. The tests run in a pre-forked child, in
order (children.py prepares it, supervise.py follows it); a test that passes
its deadline or the run's budget, writes too much, makes the run pass its
memory limit or breaks the protocol ends the child and the run's other
processes, and the tests after it continue in a fresh child. Failing tests
are then re-run traced. Every answer is bounded in size (bounds.py).
"""

import ast
import gc
import json
import os
import re
import secrets
import select
import signal
import sys
import time

from . import bounds, cleanup, edits, isolation, values
from . import child as child_module
from .children import Children, close
from .memory import OomCounter
from .supervise import Cancelled, Supervision
from .verdicts import Verdicts

READ_CHUNK = 1 << 16
TRACE_REPLAY_ALLOWANCE = 2.5
TRACED_TIMEOUT_CAP = 1.0
# A traced re-run of a test that timed out gets this share of its timeout in
# all (tracing, then replaying the tail): a request costs at most ~1.5x its limit.
TIMED_OUT_TRACE_SHARE = 0.5
# ... but never less than this: forking the traced child and recording its
# first events needs some time of its own, however small the limit (below
# 0.6 s limits this costs more than half of the limit).
TIMED_OUT_TRACE_FLOOR = 0.3
# ... and records at most this many events per second of that share:
# recording and encoding events costs a few microseconds each.
TIMED_OUT_EVENTS_PER_SECOND = 20_000
DEFAULT_TOTAL_MS = 60_000
# Children that only parse a program (never run it): what they may use.
SYNTAX_LIMITS = {"seconds": 5, "cpu_seconds": 2, "memory_bytes": 512 << 20}
# Edits compile every edited program: more CPU and memory, still bounded
# (edits.py loads at most 512 KiB / 150,000 nodes, ~1-2 s, then generates
# for edits.SECONDS).
EDITS_LIMITS = {"seconds": 8, "cpu_seconds": 7, "memory_bytes": 1 << 30}
EDITS_REPLY_BYTES = edits.MAX_BYTES + (64 << 10)


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

    def next_line(self, idle=None):
        """Blocks until a line arrives; None at end of input.

        `idle()` is called whenever the wait is interrupted; it returns the
        descriptors that interrupt it and how long to wait at most."""
        while not self.lines:
            if self.closed:
                return None
            descriptors, timeout = idle() if idle is not None else ([], None)
            ready, _, _ = select.select([self.descriptor, *descriptors], [], [], timeout)
            if self.descriptor in ready:
                self.fill()
        return self.lines.pop(0)

    def take_cancel(self, identifier):
        """True (and the line consumed) when a cancel for `identifier` has arrived."""
        for position, line in enumerate(self.lines):
            try:
                message = json.loads(line)
            except Exception:
                continue
            if isinstance(message, dict) and message.get("op") == "cancel" and message.get("id") == identifier:
                del self.lines[position]
                return True
        return False


class Run:
    """One request's state: its limits and budget, its results so far, its verdicts."""

    def __init__(self, server, request):
        self.server = server
        self.limits = dict(request["limits"])
        self.limits.setdefault("total_ms", DEFAULT_TOTAL_MS)
        self.started = time.monotonic()
        self.budget_end = self.started + self.limits["total_ms"] / 1000.0
        self.results = {}
        self.expected_values = {}
        self.verdicts = Verdicts(self.limits, self.expected_values)
        self.oom = server.oom
        self.accounting = server.memory_mode == "accounting"
        self.harness_failures = 0
        self.oom_kills = 0

    def budget_left(self):
        return self.budget_end - time.monotonic()


class ForkServer:
    def __init__(self, config, protocol_in, protocol_out):
        self.config = config
        self.protocol = ProtocolReader(protocol_in)
        os.set_blocking(protocol_in, False)
        self.protocol_out = protocol_out
        self.current_request = None
        self.run_uid = config.get("run_uid")
        self.children = Children(config)
        self.lingering = None
        memory = config.get("memory") or {}
        self.memory_mode = memory.get("mode", "accounting")
        self.oom = OomCounter(memory.get("oom_events"))
        self.retire_announced = False

    # -- one pass over a list of tests in as many children as it takes ----------------
    def deadlines_for(self, run, tests, traced):
        """Per test: (soft deadline the child enforces on itself, hard deadline the server enforces, replay seconds, event budget)."""
        timeout = run.limits["timeout_ms"] / 1000.0
        deadlines = {}
        for test in tests:
            if not traced:
                deadlines[test["index"]] = (None, timeout, None, None)
            elif run.results.get(test["index"], {}).get("status") == "timeout":
                # The traced run stops itself at `soft`; what is left is for
                # replaying its tail and sending the trace (tens of ms).
                allowance = max(timeout * TIMED_OUT_TRACE_SHARE, TIMED_OUT_TRACE_FLOOR)
                soft = min(allowance * 0.4, TRACED_TIMEOUT_CAP)
                events = max(1_000, int(allowance * TIMED_OUT_EVENTS_PER_SECOND))
                deadlines[test["index"]] = (soft, allowance, allowance * 0.25, events)
            else:
                deadlines[test["index"]] = (timeout, timeout + TRACE_REPLAY_ALLOWANCE, 2.0, None)
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

    def run_pass(self, run, request, tests, traced, keep_alive=False):
        """Runs `tests` in as many children as it takes. With `keep_alive`, a
        child that finishes all its tests stays, waiting, in self.lingering:
        the traced re-run can then use it instead of forking another."""
        pending = list(tests)
        while pending:
            if run.budget_left() <= 0:
                self._budget_spent(run, pending, traced)
                return
            self.children.finish_cleanup()
            child = self.children.take()
            if child is None:
                self._no_child(run, pending, traced)
                return
            pending = self._run_in(run, request, child, pending, traced, keep_alive)

    def _run_in(self, run, request, child, tests, traced, keep_alive):
        """One child through `tests`; returns the ones it did not get to."""
        try:
            key = secrets.token_hex(16)
            deadlines = self.deadlines_for(run, tests, traced)
            evaluate = [] if traced else self._to_evaluate(run, tests)
            message = {
                "channel_key": key,
                "code": request["code"],
                "entry_point": request.get("entry_point"),
                "tests": [self.child_view(test, deadlines[test["index"]]) for test in tests],
                "traced": traced,
                "trace": request.get("trace") or {},
                "limits": self.child_limits(run.limits, len(tests), traced, request.get("trace") if keep_alive else None),
                "await_trace": keep_alive,
                "evaluate": evaluate,
                "budget_deadline": run.budget_end,
            }
            self._send(child.control, message)
            if not keep_alive:
                close(child.control)
                child.control = None
            supervision = Supervision(run, child, tests, deadlines, traced, key, keep_alive=keep_alive)
            if evaluate:
                supervision.expect_values()
        except BaseException:
            self.children.end(child)
            raise
        return supervision.run()

    @staticmethod
    def _to_evaluate(run, tests):
        return [
            {"index": test["index"], "source": test["output_source"]}
            for test in tests
            if "output_source" in test and test["index"] not in run.expected_values
        ]

    @staticmethod
    def _budget_spent(run, tests, traced):
        """Tests the run's budget left no time for: not run (traced re-runs are simply skipped)."""
        if traced:
            return
        for test in tests:
            run.results[test["index"]] = run.verdicts.failure("budget", None, None, test, _NO_OUTPUT)

    @staticmethod
    def _no_child(run, tests, traced):
        run.harness_failures += 1
        if traced:
            return
        for test in tests:
            run.results[test["index"]] = run.verdicts.failure(
                "protocol", "the sandbox could not start a process for this test", None, test, _NO_OUTPUT
            )

    def trace_in_lingering(self, run, tests):
        """Re-runs `tests` traced in the child that ran them untraced; returns the ones it did not get to."""
        child, key = self.lingering
        self.lingering = None
        try:
            deadlines = self.deadlines_for(run, tests, True)
            command = {
                "trace": [self.child_view(test, deadlines[test["index"]]) for test in tests],
                "soft_deadline_seconds": max(deadlines[test["index"]][0] for test in tests),
                "budget_deadline": run.budget_end,
            }
            self._send(child.control, command)
            close(child.control)
            child.control = None
            supervision = Supervision(run, child, tests, deadlines, True, key, fresh=False)
        except BaseException:
            self.children.end(child)
            raise
        return supervision.run()

    @staticmethod
    def child_view(test, deadlines):
        view = {key: test[key] for key in ("index", "kind", "args", "kwargs", "input", "stdin", "code") if key in test}
        soft, _, replay, events = deadlines
        if soft is not None:
            view["soft_deadline_seconds"] = soft
            view["replay_seconds"] = replay
        if events is not None:
            view["max_events"] = events
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
            # files included (all the tests of a child share them); each test
            # gets a soft limit of its own (child._limit_output).
            "file_bytes": min(256 << 20, max(16 << 20, limits["output_bytes"] * (test_count + 1))),
            "output_bytes": limits["output_bytes"],
            "open_files": 64,
            "processes": limits.get("processes", 64),
        }

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
        run = Run(self, request)
        self.children.tmpfs_mb = run.limits["memory_mb"]
        tests = self.prepare_tests(request)
        trace = request.get("trace") or {}
        mode = trace.get("mode", "failing")
        self.lingering = None
        self.run_pass(run, request, tests, traced=False, keep_alive=mode != "none")
        selected = self._to_trace(run, tests, trace) if run.budget_left() > 0 else []
        if selected and self.lingering is not None:
            # The same child re-runs its failing tests traced: no second fork.
            # (It keeps the module state the earlier tests left, as tests of
            # one child always do.)
            selected = self.trace_in_lingering(run, selected)
        if selected:
            self.run_pass(run, request, selected, traced=True)
        self._end_lingering()
        return self._report(run, tests)

    @staticmethod
    def _to_trace(run, tests, trace):
        mode = trace.get("mode", "failing")
        if mode == "none":
            return []
        selected = [
            test
            for test in tests
            if mode == "all" or run.results.get(test["index"], {}).get("status") not in ("passed", "syntax_error", None)
        ]
        return selected[: int(trace.get("max_tests", 3))]

    def _end_lingering(self):
        if self.lingering is not None:
            child, _ = self.lingering
            self.lingering = None
            self.children.end(child, defer=True)

    @staticmethod
    def _report(run, tests):
        ordered = [run.results[test["index"]] for test in tests]
        passed = sum(1 for result in ordered if result["status"] == "passed")
        return {
            "status": "passed" if passed == len(ordered) else "failed",
            "passed": passed,
            "total": len(ordered),
            "tests": ordered,
            "duration_ms": round((time.monotonic() - run.started) * 1000, 3),
            # For Node: a run that failed before any of the program ran says
            # that this worker may be broken (Node then checks it).
            "harness_failures": run.harness_failures,
            # For Node's /healthz: run processes the kernel killed for memory.
            "oom_kills": run.oom_kills,
        }

    def check_syntax(self, source):
        """Does `source` compile? Decided in a throwaway child: compile() on
        hostile input can exhaust the stack, and this process must not."""
        data = self._ask_child(lambda: _compile_answer(source), SYNTAX_LIMITS, 1 << 20)
        try:
            return json.loads(data)
        except ValueError:
            return {"ok": False, "message": "the program could not be compiled", "line": None}

    def edits_text(self, request):
        """The JSON array of edits of the request's program (edits.py), made
        in a throwaway child like a syntax check; "[]" when the child gave no
        whole answer (too slow, too big, killed by its limits)."""
        code, sites, limit = request.get("code"), request.get("sites"), request.get("limit")
        data = self._ask_child(lambda: edits.generate(code, sites, limit).encode(), EDITS_LIMITS, EDITS_REPLY_BYTES)
        try:
            # The child is ours, but it may have been killed halfway through its answer.
            if isinstance(json.loads(data), list):
                return data.decode("ascii")
        except (ValueError, RecursionError):
            pass
        return "[]"

    def _ask_child(self, work, limits, max_bytes):
        """What `work()` (bytes) gives in a throwaway child with `limits`, as
        the run's uid; b"" when it gives nothing within the time or too much."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _answer_in_child(work, write_end, self.run_uid, limits)
        os.close(write_end)
        data = _read_until(read_end, time.monotonic() + limits["seconds"], max_bytes)
        os.close(read_end)
        # As root the fork server keeps CAP_KILL: no change of uid to end it.
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        os.waitpid(pid, 0)
        return data

    def info(self):
        children = self.children
        return {
            "python": ".".join(map(str, sys.version_info[:3])),
            "implementation": sys.implementation.name,
            "tracer": "monitoring" if sys.version_info >= (3, 12) else "settrace",
            "run_uid": self.run_uid,
            "nested_namespaces": children.namespaces,
            "run_namespaces": children.namespaces,
            "run_tmpfs": children.run_tmpfs,
            "kill": "pid-namespace" if children.namespaces else ("uid-sweep" if children.kill_everything else "process-group"),
            "memory": self.memory_mode,
            "pid": os.getpid(),
        }

    # -- answers -------------------------------------------------------------------------
    def _write(self, text):
        view = memoryview((text + "\n").encode())
        while view:
            view = view[os.write(self.protocol_out, view) :]

    def respond(self, message):
        self._write(bounds.encode(message))

    def respond_report(self, identifier, report):
        """The report, its tests encoded within the run's reply bound before anything is joined."""
        tests = report.pop("tests")
        head = bounds.encode({"id": identifier, "ok": True, "report": report})
        self._write(head[:-2] + ',"tests":' + bounds.encode_tests(tests) + "}}")

    def _harness_error(self, identifier, error):
        """Details go to the fork server's stderr (Node's log), not to the client."""
        import traceback

        try:
            os.write(2, traceback.format_exc().encode("utf-8", "replace")[-8000:])
        except OSError:
            pass
        self.respond(
            {"id": identifier, "ok": False, "error": {"code": "harness_error", "message": f"the harness failed ({type(error).__name__})"}}
        )

    def _announce_retirement(self):
        if self.children.retire is not None and not self.retire_announced:
            self.retire_announced = True
            self.respond({"id": None, "retire": "cleanup_failed", "message": self.children.retire})

    # -- the loop ------------------------------------------------------------------------
    def handle(self, request):
        identifier = request.get("id")
        operation = request.get("op")
        if operation == "ping":
            self.respond({"id": identifier, "ok": True, "info": self.info()})
        elif operation == "syntax":
            self.respond({"id": identifier, "ok": True, "syntax": self.check_syntax(request.get("code", ""))})
        elif operation == "edits":
            # The edits are already JSON (ASCII, checked): spliced, not encoded again.
            self._write('{"id":' + bounds.encode(identifier) + ',"ok":true,"edits":' + self.edits_text(request) + "}")
        else:
            self.current_request = identifier
            self.respond_report(identifier, self.execute(request))

    def serve(self, once=False):
        """Answer requests until the input ends; with `once`, one run and no spare child (a baseline)."""
        if not once:
            self.children.spare = self.children.prepare()
        self.respond({"id": 0, "ok": True, "info": self.info()})
        while True:
            line = self.protocol.next_line(idle=self.children.idle_work)
            if line is None:
                return
            try:
                request = json.loads(line)
            except Exception:
                # Too deeply nested for json (RecursionError), or not JSON:
                # answer the request it was, so that it does not wait for ever.
                self.respond({"id": _request_id(line), "ok": False, "error": {"code": "malformed_request", "message": "the request could not be read"}})
                continue
            if request.get("op") == "cancel":
                continue  # the run it meant has already ended
            self._serve_one(request)
            if once:
                return
            self._between_requests()

    def _between_requests(self):
        """The next spare, and the cleanup after the run just answered.

        With run namespaces the spare comes first: nothing of the ended run can
        reach it, and its set-up (a few ms) overlaps the reaping. Without
        them, the per-uid sweep would kill a spare of the same uid: cleanup
        first."""
        children = self.children
        if children.namespaces and children.spare is None:
            children.spare = children.try_prepare()
        children.finish_cleanup()
        self._announce_retirement()
        if children.spare is None:
            children.spare = children.try_prepare()

    def _serve_one(self, request):
        identifier = request.get("id")
        try:
            self.handle(request)
        except Cancelled:
            self.respond({"id": identifier, "ok": False, "error": {"code": "cancelled", "message": "cancelled"}})
        except Exception as error:  # the server must answer, whatever broke
            self._harness_error(identifier, error)
        finally:
            self.current_request = None
            # A run that ended abnormally may have left its waiting child.
            self._end_lingering()


_REQUEST_ID = re.compile(rb'^\{"id":(\d+),')


def _request_id(line):
    """The id of a request line that does not parse (Node writes it first)."""
    match = _REQUEST_ID.match(line)
    return int(match.group(1)) if match else None


class _EmptyOutput:
    stdout = b""
    stderr = b""
    total = 0
    truncated = False


_NO_OUTPUT = _EmptyOutput()


def _answer_in_child(work, write_end, run_uid, limits):
    """In the forked child: the run's uid, no new privileges, no core, CPU
    and memory limits; then `work()`, whose bytes go to the pipe. The child
    never returns (a hostile program parsed here must not reach the fork
    server's loop)."""
    data = b""
    try:
        import resource

        isolation.common_child_setup()
        if run_uid is not None:
            isolation.drop_privileges(run_uid)
        resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"]))
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
        data = work()
    except BaseException:  # nothing to say: the parent answers for an empty pipe
        data = b""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    finally:
        os._exit(0)


def _compile_answer(source):
    answer = {"ok": True}
    try:
        compile(source, "<candidate>", "exec")
    except SyntaxError as error:
        answer = {"ok": False, "message": str(error.msg), "line": error.lineno}
    except BaseException as error:  # too deep, too big: not a program we can run
        answer = {"ok": False, "message": f"{type(error).__name__}: {error}", "line": None}
    return json.dumps(answer).encode()


def _read_until(descriptor, deadline, max_bytes):
    """What arrives on `descriptor` until its end or `deadline`; b"" past `max_bytes`."""
    chunks = []
    size = 0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([descriptor], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(descriptor, READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            return b""
        chunks.append(chunk)
    return b"".join(chunks)


# Imported once by the fork server, shared copy-on-write by every child: the
# modules programs (and the harness's own error reports) use most. It also
# matters where children run as a uid that cannot read the interpreter's
# directory (rlimits-only mode as root, interpreter under /root).
PRELOADED_MODULES = (
    "abc array bisect cmath collections collections.abc copy dataclasses datetime decimal enum fractions "
    "functools hashlib heapq io itertools json linecache math numbers operator queue random re string "
    "statistics struct textwrap tokenize traceback typing"
).split()


def _preload():
    import importlib

    for name in PRELOADED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _probe_namespaces(run_uid, tmpfs):
    """Probe once: can a child be pid 1 of its own namespaces (with a tmpfs of its own)?"""
    namespaces = isolation.PidNamespaces()
    try:
        pid = namespaces.fork()
    finally:
        namespaces.close()
    if pid == 0:
        try:
            if run_uid is not None:
                isolation.drop_privileges(run_uid)
            isolation.enter_run_namespace(None, tmpfs)
            os._exit(0 if os.getpid() == 1 else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _decide_namespaces(config):
    """What the kernel allows: a namespace of the fork server's own (entered here,
    see isolation.enter_server_namespace), run namespaces below it, and a tmpfs
    of their own."""
    config["run_tmpfs"] = False
    if not config.get("nested_namespaces"):
        return
    try:
        isolation.enter_server_namespace()
    except OSError:
        config["nested_namespaces"] = False
        return
    # Alone in a pid namespace now: kill(-1) reaches only this server's children.
    config["own_pid_namespace"] = True
    uid = config.get("run_uid")
    if config.get("run_tmpfs_allowed", True) and _probe_namespaces(uid, True):
        config["run_tmpfs"] = True
    elif not _probe_namespaces(uid, False):
        config["nested_namespaces"] = False


def _run_cgroup_works(procs):
    """Probe once: can a child join the run cgroup? (Else runs are limited by accounting.)"""
    from .children import join_cgroup

    pid = os.fork()
    if pid == 0:
        try:
            join_cgroup(procs)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _decide_memory(config):
    memory = config.setdefault("memory", {"mode": "accounting"})
    if memory.get("mode", "accounting") != "accounting" and not (memory.get("run_procs") and _run_cgroup_works(memory["run_procs"])):
        config["memory"] = {"mode": "accounting"}


def _prepare_fallback(server, config):
    """Without a run tmpfs: a work directory the run's uid owns, and nothing left of a predecessor."""
    cleanup.make_directory(server.run_uid, config["work_base"])
    children = server.children
    if children.kill_everything and not children.own_pid_namespace:
        # A previous fork server of this slot may have left processes behind
        # (it was killed with its runs); they go before this one serves.
        cleanup.sweep_uid(server.run_uid, False)
    for path in children.scrub_entries():
        cleanup.remove_tree(server.run_uid, path)


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # First: from here on this may be the fork server below a relay process.
    _decide_namespaces(config)
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
    _decide_memory(config)
    server = ForkServer(config, protocol_in, protocol_out)
    if not server.children.run_tmpfs:
        _prepare_fallback(server, config)
    # Children share the server's imported modules copy-on-write.
    gc.collect()
    gc.freeze()
    server.serve(once=bool(config.get("once")))
