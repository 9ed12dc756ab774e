"""Runs inside the sandboxed child: the candidate's module and its tests.

Everything this process says goes to the fork server as JSON frames on a
private pipe:
    {"t": "start", "i": k}          test k begins (the server starts its clock)
    {"t": "expected", "values": …}  the values of the request's `output`
                                    expressions, sent right after the first
                                    `start`, before any of the program runs
    {"t": "result", "i": k, ...}    test k ended without the process dying
    {"t": "done"}                   every test given to this child has run

The verdict is not decided here: return values travel as canonical data
(values.py) and the fork server compares them. A child that dies, hangs or
exits early simply never sends the frame, and the server knows what that means.
"""

import builtins
import io
import json
import linecache
import os
import sys
import time
import traceback
import types

from . import asserts, bounds, isolation, values
from .session import SoftTimeout, TraceSession
from .tracer import CANDIDATE_FILE, Probe, code_objects, make_backend

TEST_FILE = "<test>"
VALUE_LIMIT = 2000
MODULE_NAME = "solution"


class FrameWriter:
    """Frames to the fork server, each signed with this child's channel key.

    The key stops a program that writes into whatever descriptors it inherited
    from passing itself off as the harness; it is not a defence against a
    program that searches the interpreter's memory for it (architecture/sandbox.md).
    """

    def __init__(self, descriptor, key):
        self.descriptor = descriptor
        self.key = key

    def send(self, frame):
        self.send_many([frame])

    def send_many(self, frames):
        offsets = _output_offsets()
        data = "".join(self._encode({**frame, "k": self.key, "o": offsets}) + "\n" for frame in frames).encode()
        view = memoryview(data)
        while view:
            written = os.write(self.descriptor, view)
            view = view[written:]

    @staticmethod
    def _encode(frame):
        """One frame as JSON; a trace arrives already encoded (bounded once, encoded once)."""
        trace_text = frame.pop("trace_json", None)
        text = bounds.encode(frame)
        if trace_text is not None:
            text = text[:-1] + ',"trace":' + trace_text + "}"
        if len(text) > bounds.FRAME_BYTES - (64 << 10):
            # Only a return value can make it this large: the server would
            # refuse the frame, so the test fails here, saying why.
            text = bounds.encode(_value_too_large(frame, len(text)))
        return text


def _value_too_large(frame, size):
    message = (
        f"the return value is too large to compare ({size >> 20} MB as data; "
        f"the limit is {bounds.VALUE_BYTES >> 20} MB)"
    )
    kept = {key: frame[key] for key in ("t", "i", "k", "o", "duration_ms") if key in frame}
    kept.update({"outcome": "error", "error": {"type": "ValueTooLarge", "message": message, "line": None}})
    return kept


def _flush_output():
    """Flush what the program printed; a full output file (EFBIG) is the server's to report."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _output_offsets():
    """How far stdout and stderr (files shared with the server) have been written.

    The server reads each test's output between the offsets of its start and
    result frames, so output is attributed to the test that wrote it.
    """
    offsets = []
    for descriptor in (1, 2):
        try:
            offsets.append(os.lseek(descriptor, 0, os.SEEK_CUR))
        except OSError:
            offsets.append(None)
    return offsets


def _register_source(filename, source):
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def describe_error(error, repr_limit=200):
    """type, message, line (in the candidate) and a traceback of the candidate's and test's frames."""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename in (CANDIDATE_FILE, TEST_FILE)
    ]
    candidate_frames = [frame for frame in frames if frame.filename == CANDIDATE_FILE]
    line = candidate_frames[-1].lineno if candidate_frames else None
    if isinstance(error, SyntaxError) and error.filename == CANDIDATE_FILE:
        line = error.lineno
    try:
        message = str(error)
    except BaseException:
        message = "<unprintable message>"
    if isinstance(error, SystemExit):
        message = f"the program called sys.exit({error.code!r}) during the test"
    elif isinstance(error, MemoryError) and not message:
        message = "the program ran out of memory"
    lines = ["Traceback (most recent call last):\n"]
    for frame in frames:
        where = "candidate" if frame.filename == CANDIDATE_FILE else "test"
        lines.append(f'  File "<{where}>", line {frame.lineno}, in {frame.name}\n')
        if frame.line:
            lines.append(f"    {frame.line.strip()}\n")
    lines.extend(traceback.format_exception_only(type(error), error))
    text = "".join(lines)
    if len(text) > 4000:
        text = text[:1500] + "\n…\n" + text[-2400:]
    result = {
        "type": type(error).__name__,
        "message": message[:VALUE_LIMIT],
        "line": line,
        "traceback": text,
    }
    if isinstance(error, SyntaxError):
        result["offset"] = error.offset
    details = getattr(error, "tracefix_details", None)
    if isinstance(details, dict):
        result["assertion"] = details
    return result


def _outcome_for(error):
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, SoftTimeout):
        return "timeout"
    return "error"


class Child:
    def __init__(self, request, writer, private_fds):
        self.request = request
        self.writer = writer
        self.private_fds = private_fds
        self.entry_point = request.get("entry_point")
        trace = request.get("trace") or {}
        self.traced = bool(request.get("traced"))
        self.trace_max_events = int(trace.get("max_events", 10_000))
        self.max_events = self.trace_max_events
        self.repr_limit = int(trace.get("repr_limit", 80))
        self.probe = trace.get("probe")
        self.soft_deadline = request.get("soft_deadline_seconds")
        self.replay_seconds = request.get("replay_seconds", 2.0)
        self.backend = make_backend(trace.get("backend")) if self.traced else None
        self.module = None
        self.load_error = None
        self.code = None
        self.codes = ()
        self.output_bytes = int((request.get("limits") or {}).get("output_bytes", 0))
        # Taken before any of the program runs: test code sees these builtins,
        # whatever the program patches in the builtins module.
        self.builtins = dict(builtins.__dict__)

    # -- entry ------------------------------------------------------------------
    def run(self):
        source = self.request["code"]
        _register_source(CANDIDATE_FILE, source)
        try:
            self.code = compile(source, CANDIDATE_FILE, "exec")
        except (SyntaxError, ValueError) as error:
            failure = describe_error(error)
            for test in self.request["tests"]:
                self.writer.send({"t": "start", "i": test["index"]})
                self.writer.send({"t": "result", "i": test["index"], "outcome": "syntax", "error": failure})
            self.writer.send({"t": "done"})
            return
        self.codes = code_objects(self.code)
        self.run_tests(self.request["tests"])

    def run_tests(self, tests):
        for position, test in enumerate(tests):
            self._limit_output()
            self.writer.send({"t": "start", "i": test["index"]})
            if position == 0 and self.request.get("evaluate"):
                self.writer.send({"t": "expected", "values": evaluate_expected(self.request["evaluate"], self.builtins)})
            result = self.run_test(test)
            _flush_output()
            if position == len(tests) - 1:
                # One write for the last result and the end: one wake-up less for the server.
                self.writer.send_many([result, {"t": "done"}])
            else:
                self.writer.send(result)

    def _limit_output(self):
        """A test that writes past its output cap gets EFBIG right there,
        instead of filling the file for the tests after it."""
        if self.output_bytes <= 0:
            return
        written = max((offset or 0) for offset in _output_offsets())
        try:
            isolation.limit_file_size(written + self.output_bytes + 1)
        except (OSError, ValueError):
            pass

    def _set_soft_deadline(self, test):
        """This test's own soft deadline, replay time and event budget; never past the run's budget."""
        self.max_events = min(self.trace_max_events, int(test.get("max_events", self.trace_max_events)))
        soft = test.get("soft_deadline_seconds", self.soft_deadline)
        self.replay_seconds = test.get("replay_seconds", self.replay_seconds)
        budget = self.request.get("budget_deadline")
        if soft is not None and budget is not None:
            soft = max(0.001, min(soft, budget - time.monotonic() - 0.05))
        self.soft_deadline = soft

    def trace_again(self, tests, soft_deadline, budget_deadline=None):
        """The failing tests once more, traced, after the untraced run in this process."""
        self.traced = True
        self.request["budget_deadline"] = budget_deadline
        self.backend = make_backend((self.request.get("trace") or {}).get("backend"))
        self.soft_deadline = soft_deadline
        self.run_tests(tests)

    def run_test(self, test):
        kind = test["kind"]
        if self.traced:
            self._set_soft_deadline(test)
        started = time.perf_counter()
        if kind == "stdio":
            result = self.run_stdio(test)
        else:
            if self.module is None and self.load_error is None:
                self.load_module()
            if self.load_error is not None:
                result = {"outcome": self.load_error[0], "error": self.load_error[1]}
            elif kind == "call":
                result = self.run_call(test)
            else:
                result = self.run_assert(test)
        result["t"] = "result"
        result["i"] = test["index"]
        result["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return result

    # -- pieces -----------------------------------------------------------------
    def load_module(self):
        module = types.ModuleType(MODULE_NAME)
        module.__file__ = CANDIDATE_FILE
        sys.modules[MODULE_NAME] = module
        try:
            exec(self.code, module.__dict__)
        except BaseException as error:
            self.load_error = (_outcome_for(error), describe_error(error))
            return
        self.module = module

    def traced_call(self, function):
        """Run function() — traced when this child traces — and return (value, error, trace)."""
        if not self.traced:
            try:
                return function(), None, None
            except BaseException as error:
                return None, error, None
        session = TraceSession(
            self.backend,
            self.codes,
            self.max_events,
            self.repr_limit,
            private_fds=self.private_fds,
            soft_deadline=self.soft_deadline,
        )
        probe = None
        if self.probe:
            probe = session.recorder.probe = Probe(self.probe["line"], self.probe["expression"], self.repr_limit)
        value, error = None, None
        started = time.perf_counter()
        session.start()
        try:
            value = function()
        except BaseException as caught:
            error = caught
        finally:
            session.finish()
        trace = session.trace(timed_out=isinstance(error, SoftTimeout), replay_seconds=self.replay_seconds)
        # What tracing this test cost, replay of the tail included.
        trace["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if probe is not None:
            trace["probe"] = probe.result()
        return value, error, trace

    def _failure(self, error, trace):
        result = {"outcome": _outcome_for(error), "error": describe_error(error)}
        return _with_trace(result, trace)

    def run_call(self, test):
        namespace = self.module.__dict__
        function = namespace.get(self.entry_point) if self.entry_point else None
        if not callable(function):
            message = (
                f"the entry point '{self.entry_point}' is not defined by the program"
                if self.entry_point
                else "a call test needs an entry_point"
            )
            return {"outcome": "error", "error": {"type": "NameError", "message": message, "line": None}}
        try:
            if "args" in test:
                arguments = test["args"]
            else:
                arguments = eval(compile(test["input"], TEST_FILE, "eval"), dict(namespace))
                arguments = list(arguments) if isinstance(arguments, (list, tuple)) else [arguments]
            keyword_arguments = test.get("kwargs") or {}
        except BaseException as error:
            failure = describe_error(error)
            failure["type"] = "TestError"
            failure["message"] = f"the test input does not evaluate: {failure['message']}"
            return {"outcome": "test_error", "error": failure}
        # A returned generator runs while it is consumed: consume it inside
        # the traced, timed call so that its lines are part of the test.
        value, error, trace = self.traced_call(
            lambda: values.materialize(function(*arguments, **keyword_arguments))
        )
        if error is not None:
            return self._failure(error, trace)
        result = {"outcome": "returned"}
        try:
            result["actual"] = values.canonical(value)
        except BaseException as error:  # materialising a generator can raise, or hang (server deadline)
            return self._failure(error, trace)
        result["actual_repr"] = values.bounded_repr(value, VALUE_LIMIT)
        return _with_trace(result, trace)

    def run_assert(self, test):
        try:
            code = asserts.rewrite(test["code"], TEST_FILE)
        except SyntaxError as error:
            failure = describe_error(error)
            failure["type"] = "TestError"
            failure["message"] = f"the test code does not compile: {failure['message']}"
            return {"outcome": "test_error", "error": failure}
        _register_source(TEST_FILE, test["code"])
        namespace = dict(self.module.__dict__)
        namespace.update(asserts.make_helpers(self.repr_limit))
        namespace["__builtins__"] = dict(self.builtins)
        candidate = self.module.__dict__.get(self.entry_point) if self.entry_point else None
        call_check = candidate is not None and not asserts.calls_check_at_top_level(test["code"])

        def body():
            exec(code, namespace)
            check = namespace.get("check")
            if call_check and isinstance(check, types.FunctionType) and check.__code__.co_filename == TEST_FILE:
                check(candidate)

        _, error, trace = self.traced_call(body)
        if error is not None:
            return self._failure(error, trace)
        return _with_trace({"outcome": "returned"}, trace)

    def run_stdio(self, test):
        stdin_bytes = (test.get("stdin") or "").encode()
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin_bytes), encoding="utf-8")
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": CANDIDATE_FILE}

        def body():
            try:
                exec(self.code, namespace)
            except SystemExit as exit_request:
                # A program that ends with sys.exit(0) is a normal stdio program.
                if exit_request.code not in (None, 0):
                    raise

        _, error, trace = self.traced_call(body)
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
        if error is not None:
            return self._failure(error, trace)
        return _with_trace({"outcome": "returned"}, trace)


def _with_trace(result, trace):
    """The result frame carries the trace encoded and bounded (bounds.TRACE_BYTES)."""
    if trace is not None:
        result["trace_json"], omitted = bounds.encode_trace(trace)
        if omitted:
            result["omitted"] = {"trace_events": omitted}
    return result


def evaluate_expected(expressions, builtins_snapshot):
    """The values of call tests' `output` expressions, by test index.

    Evaluated before any of the program runs and without its names (a fresh
    namespace with the builtins as they were), so that nothing the program
    does can change what a test expects."""
    found = {}
    for item in expressions:
        try:
            value = eval(compile(item["source"], TEST_FILE, "eval"), {"__builtins__": dict(builtins_snapshot)})
            found[str(item["index"])] = {
                "expected": values.canonical(value),
                "expected_repr": values.bounded_repr(value, VALUE_LIMIT),
            }
        except BaseException as error:
            failure = describe_error(error)
            failure["type"] = "TestError"
            failure["message"] = f"the expected output does not evaluate: {failure['message']}"
            found[str(item["index"])] = {"error": failure}
    return found


def _read_command(descriptor):
    chunks = []
    while True:
        chunk = os.read(descriptor, 1 << 16)
        if not chunk:
            return None
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return json.loads(b"".join(chunks))


def main(request, result_fd, private_fds, control=None):
    writer = FrameWriter(result_fd, request.pop("channel_key", ""))
    child = Child(request, writer, private_fds + ((control,) if control is not None else ()))
    child.run()
    if control is None:
        return
    # The server may ask for the failing tests again, traced, in this process.
    command = _read_command(control)
    os.close(control)
    if command is None or child.code is None:
        return
    child.trace_again(command["trace"], command.get("soft_deadline_seconds"), command.get("budget_deadline"))
