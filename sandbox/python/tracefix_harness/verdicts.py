"""Test reports: what a child said about a test, or how the test ended without it.

Frames come from the program's own process: a program that finds its
channel key can write any of them. So nothing in a frame is trusted to have
the right shape (every field is checked or coerced here), and nothing in one
decides a verdict alone: return values are compared here, on canonical data;
the expected values of `output` expressions come from the `expected` frame,
which the child sends before any of the program runs.
"""

import os
import signal

from . import bounds, compare

OUTCOMES = ("returned", "error", "test_error", "memory", "timeout", "syntax")
EVENT_KINDS = ("call", "line", "return", "exception")
TEXT_LIMIT = 4000


class TestOutput:
    """One test's output: a slice of the child's stdout and stderr files, up to the cap."""

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
            size = _size_of(descriptor)
            begin = min(_offset(start, position, 0), size)
            stop = min(_offset(end, position, size), size)
            length = max(0, stop - begin)
            total += length
            try:
                slices.append(os.pread(descriptor, min(length, cap), begin) if length else b"")
            except OSError:
                slices.append(b"")
        return cls(slices[0], slices[1], total, total > cap)


def _size_of(descriptor):
    try:
        return os.fstat(descriptor).st_size
    except OSError:
        return 0


def _offset(offsets, position, default):
    """An offset from a frame (program-controlled): a non-negative int, else `default`."""
    if not isinstance(offsets, list) or len(offsets) <= position:
        return default
    value = offsets[position]
    return value if type(value) is int and value >= 0 else default


# -- frames, checked ------------------------------------------------------------------
def text(value, limit=TEXT_LIMIT):
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    return bounds.short(value, limit)


def clean_error(error):
    if not isinstance(error, dict):
        return None
    line = error.get("line")
    cleaned = {
        "type": text(error.get("type"), 200) or "Error",
        "message": text(error.get("message")) or "",
        "line": line if type(line) is int else None,
    }
    if "traceback" in error:
        cleaned["traceback"] = text(error.get("traceback")) or ""
    if type(error.get("offset")) is int:
        cleaned["offset"] = error["offset"]
    assertion = error.get("assertion")
    if isinstance(assertion, dict):
        cleaned["assertion"] = {key: text(assertion.get(key)) for key in ("operator", "left", "right", "source")}
        cleaned["assertion"]["operator"] = cleaned["assertion"]["operator"] or "?"
        cleaned["assertion"]["left"] = cleaned["assertion"]["left"] or ""
        cleaned["assertion"]["source"] = cleaned["assertion"]["source"] or ""
    return cleaned


def _clean_event(event):
    if not isinstance(event, dict) or event.get("event") not in EVENT_KINDS:
        return None
    step, line, depth = event.get("step"), event.get("line"), event.get("depth")
    if not (step is None or type(step) is int) or type(line) is not int or type(depth) is not int:
        return None
    cleaned = {"step": step, "event": event["event"], "line": line, "function": text(event.get("function"), 200) or "?", "depth": depth}
    names = event.get("locals")
    if isinstance(names, dict):
        cleaned["locals"] = {str(key): value if isinstance(value, str) else str(value) for key, value in names.items()}
    if isinstance(event.get("changed"), list):
        cleaned["changed"] = [str(name) for name in event["changed"]]
    if isinstance(event.get("value"), str):
        cleaned["value"] = event["value"]
    return cleaned


def clean_trace(trace):
    """A raw trace with the schema's shape (events that do not fit it are dropped), or None."""
    if not isinstance(trace, dict) or not isinstance(trace.get("events"), list):
        return None
    events = [cleaned for cleaned in map(_clean_event, trace["events"]) if cleaned is not None]
    cleaned = {
        "events": events,
        "backend": trace.get("backend") if trace.get("backend") in ("settrace", "monitoring") else "settrace",
        "truncated": bool(trace.get("truncated")),
    }
    for key in ("total_events", "total_steps", "steps_at_least"):
        value = trace.get(key)
        if value is None or type(value) is int:
            cleaned[key] = value
    gap = trace.get("gap")
    cleaned["gap"] = None
    if isinstance(gap, dict) and type(gap.get("after_step")) is int:
        cleaned["gap"] = {"after_step": gap["after_step"], "events": gap.get("events") if type(gap.get("events")) is int else None}
        if isinstance(gap.get("reason"), str):
            cleaned["gap"]["reason"] = text(gap["reason"], 500)
    if isinstance(trace.get("duration_ms"), (int, float)) and not isinstance(trace.get("duration_ms"), bool):
        cleaned["duration_ms"] = trace["duration_ms"]
    probe = _clean_probe(trace.get("probe"))
    if probe is not None:
        cleaned["probe"] = probe
    return cleaned


_PROBE_KEEP = 16


def _clean_probe_value(entry):
    if not isinstance(entry, dict) or type(entry.get("step")) is not int:
        return None
    cleaned = {"step": entry["step"]}
    for key in ("value", "error"):
        if isinstance(entry.get(key), str):
            cleaned[key] = text(entry[key], 2_000)
    return cleaned


def _clean_probe(probe):
    """inspect's values with the schema's shape (the child that sent them ran the candidate)."""
    if not isinstance(probe, dict) or type(probe.get("line")) is not int or type(probe.get("count")) is not int:
        return None
    cleaned = {"line": probe["line"], "expression": text(str(probe.get("expression", "")), 500), "count": probe["count"]}
    for key in ("first", "last"):
        entries = probe.get(key) if isinstance(probe.get(key), list) else []
        cleaned[key] = [value for value in map(_clean_probe_value, entries[:_PROBE_KEEP]) if value is not None]
    if isinstance(probe.get("error"), str):
        cleaned["error"] = text(probe["error"], 500)
    return cleaned


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# -- reports --------------------------------------------------------------------------
def base_result(test, output, duration_ms=None):
    """A test report with its output shown within bounds (what was cut counted in `omitted`)."""
    stdout, stdout_cut = bounds.shown_bytes(output.stdout)
    stderr, stderr_cut = bounds.shown_bytes(output.stderr)
    result = {
        "index": test["index"],
        "kind": test["kind"],
        "stdout": stdout,
        "stderr": stderr,
        "output_truncated": output.truncated,
        "expected": test.get("expected_repr"),
        "actual": None,
        "error": None,
        "steps": None,
        "duration_ms": duration_ms,
    }
    bounds.add_omitted(result, "stdout_bytes", stdout_cut)
    bounds.add_omitted(result, "stderr_bytes", stderr_cut)
    return result


def _signal_name(number):
    return signal.Signals(number).name if number in signal.valid_signals() else str(number)


class Verdicts:
    """Turns frames and endings into test reports, for one run."""

    def __init__(self, limits, expected_values):
        self.limits = limits
        self.expected_values = expected_values

    # -- a test that ended without its result frame ----------------------------------
    def failure(self, reason, detail, status, test, output):
        result = base_result(test, output)
        status_name, error_type, message = self._ending(reason, detail, status)
        result["status"] = status_name
        result["error"] = {"type": error_type, "message": message, "line": None}
        return result

    def _ending(self, reason, detail, status):
        limits = self.limits
        fixed = {
            "timeout": ("timeout", "Timeout", f"the test ran longer than {limits['timeout_ms']} ms"),
            "output": ("output_limit", "OutputLimit", f"the program wrote more than {limits['output_bytes']} bytes"),
            "memory": ("memory_limit", "MemoryLimit", f"the run's processes together used more than {limits['memory_mb']} MB"),
            "budget": (
                "timeout",
                "BudgetExhausted",
                f"not run: the run's time budget (limits.total_ms = {limits['total_ms']} ms) was spent before this test could start",
            ),
            "budget_cut": (
                "timeout",
                "BudgetExhausted",
                f"the run's time budget (limits.total_ms = {limits['total_ms']} ms) ran out during this test",
            ),
            "protocol": ("runtime_error", "SandboxViolation", detail),
        }
        if reason in fixed:
            return fixed[reason]
        return self._death(detail, status)

    @staticmethod
    def _death(detail, status):
        """The child died without reporting: how it died says what happened."""
        message = detail or "the program ended before reporting a result"
        if status is not None and os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            if number == signal.SIGXCPU:
                return "timeout", "Timeout", "the program used up its CPU time"
            if number == signal.SIGXFSZ:
                return "output_limit", "OutputLimit", "the program wrote a file larger than allowed"
            if number == signal.SIGSEGV:
                return "runtime_error", "Crash", "the program crashed with SIGSEGV (often a stack overflow from deep recursion)"
            return "runtime_error", "Crash", f"the program was killed by {_signal_name(number)}"
        if status is not None and os.WIFEXITED(status):
            message = (
                f"the program exited with status {os.WEXITSTATUS(status)} before its test finished "
                "(os._exit or a similar exit does not count as passing)"
            )
        return "runtime_error", "ProcessExit", message

    # -- a result frame ----------------------------------------------------------------
    def record(self, test, frame, output, traced, results):
        index = test["index"]
        if traced:
            self._add_trace(results.get(index), frame)
            return
        result = base_result(test, output, _number(frame.get("duration_ms")))
        result["error"] = clean_error(frame.get("error"))
        outcome = frame.get("outcome")
        if output.truncated and outcome != "syntax":
            result["status"] = "output_limit"
            result["error"] = {"type": "OutputLimit", "message": f"the program wrote more than {self.limits['output_bytes']} bytes", "line": None}
        else:
            result["status"] = self._status(test, frame, outcome, output, result)
        if test["kind"] == "call" and result["expected"] is None:
            result["expected"] = test.get("expected_repr")
        results[index] = result

    @staticmethod
    def _add_trace(existing, frame):
        """The verdict comes from the untraced run; the traced one adds the trace."""
        trace = clean_trace(frame.get("trace"))
        if existing is None or trace is None:
            return
        existing["trace"] = trace
        existing["steps"] = trace.get("total_steps")
        if trace.get("total_steps") is None and trace.get("steps_at_least") is not None:
            existing["steps_at_least"] = trace["steps_at_least"]
        omitted = frame.get("omitted")
        if isinstance(omitted, dict) and type(omitted.get("trace_events")) is int:
            bounds.add_omitted(existing, "trace_events", omitted["trace_events"])

    def _status(self, test, frame, outcome, output, result):
        if outcome == "syntax":
            return "syntax_error"
        if outcome == "memory":
            if result["error"] is not None:
                result["error"]["message"] = f"the program ran out of memory (limit {self.limits['memory_mb']} MB)"
            return "memory_limit"
        if outcome == "timeout":
            return "timeout"
        if outcome in ("error", "test_error"):
            return self._error_status(test, result)
        if outcome == "returned":
            return self.judge(test, frame, output, result)
        result["error"] = {"type": "SandboxViolation", "message": "unknown outcome", "line": None}
        return "runtime_error"

    @staticmethod
    def _error_status(test, result):
        error = result["error"] or {}
        assertion = error.get("assertion")
        if assertion is not None:
            result["expected"] = assertion.get("right")
            result["actual"] = assertion.get("left")
            return "wrong_answer"
        if test["kind"] == "assert" and error.get("type") == "AssertionError":
            return "wrong_answer"
        return "runtime_error"

    def judge(self, test, frame, output, result):
        kind = test["kind"]
        if kind == "call":
            return self._judge_call(test, frame, result)
        if kind == "stdio":
            return self._judge_stdio(test, output, result)
        return "passed"

    def _judge_call(self, test, frame, result):
        result["actual"] = text(frame.get("actual_repr"))
        if "expected_canonical" in test:
            expected = test["expected_canonical"]
        elif "output_source" in test:
            evaluated = self.expected_values.get(test["index"])
            if evaluated is None or "error" in evaluated:
                result["error"] = (evaluated or {}).get("error") or {
                    "type": "TestError",
                    "message": "the expected output was not evaluated",
                    "line": None,
                }
                return "runtime_error"
            expected = evaluated["expected"]
            result["expected"] = evaluated.get("expected_repr")
        else:
            return "passed"  # a call without an expected value only has to return
        same = compare.equal(
            expected,
            frame.get("actual"),
            test.get("rel_tol", compare.DEFAULT_RELATIVE_TOLERANCE),
            test.get("abs_tol", compare.DEFAULT_ABSOLUTE_TOLERANCE),
        )
        return "passed" if same else "wrong_answer"

    @staticmethod
    def _judge_stdio(test, output, result):
        if output.truncated:
            return "output_limit"
        if "stdout" not in test:
            return "passed"
        # The verdict compares the full output; the report shows the bounded one.
        actual = output.stdout.decode("utf-8", "replace")
        result["expected"], _ = bounds.shown_text(test["stdout"], bounds.STREAM_SHOWN_BYTES)
        result["actual"] = result["stdout"]
        return "passed" if compare.normalize_output(actual) == compare.normalize_output(test["stdout"]) else "wrong_answer"

    def expected_from(self, frame):
        """Values of `output` expressions from an `expected` frame, checked; False when it is malformed."""
        found = frame.get("values")
        if not isinstance(found, dict):
            return False
        for key, value in found.items():
            if not (isinstance(key, str) and key.isdigit() and isinstance(value, dict)):
                return False
            if "error" in value:
                error = clean_error(value["error"]) or {"type": "TestError", "message": "", "line": None}
                self.expected_values[int(key)] = {"error": error}
            elif "expected" in value:
                self.expected_values[int(key)] = {"expected": value["expected"], "expected_repr": text(value.get("expected_repr"))}
        return True
