"""Following one child through its tests.

The child announces each test with a `start` frame (its clock starts) and
ends it with a `result` frame. The supervision ends the child when a test
passes its deadline or the run's time budget, writes past its output cap,
makes the run pass its memory limit, or breaks the protocol (a frame that
is not signed, not JSON, not of the expected kind, or larger than any frame
the harness writes). Whatever happens — an exception included — the child
is ended before `run()` returns, unless it finished every test and is kept
for the traced re-run.
"""

import json
import os
import select
import time

from . import bounds
from .memory import RunAccounting
from .verdicts import TestOutput

READ_CHUNK = 1 << 16
START_GRACE_SECONDS = 5.0  # a child that never starts its first test is broken
WATCH_SECONDS = 0.01  # how often a running test's output (and memory, when accounted) is looked at
VIOLATION = "the program wrote to the harness's private channel"


class Cancelled(Exception):
    """Node asked to stop the run in progress (its client went away)."""


class Supervision:
    def __init__(self, run, child, tests, deadlines, traced, key, keep_alive=False, fresh=True):
        self.run_state = run
        self.server = run.server
        self.child = child
        self.tests = tests
        self.by_index = {test["index"]: test for test in tests}
        self.deadlines = deadlines
        self.traced = traced
        self.key = key
        self.keep_alive = keep_alive
        self.fresh = fresh  # nothing of the program has run in this child yet
        self.awaiting_expected = False
        self.finished = set()
        self.current = None
        self.started_at = None  # output offsets when the current test started
        self.ended = None  # (reason, detail): done | after | timeout | budget | budget_cut | output | memory | protocol | died | cancelled
        self.child_ended = False
        self.frames = bytearray()
        self.scanned = 0
        self.results_open = True
        self.poller = select.poll()
        self.poller.register(child.results, select.POLLIN)
        self.poller.register(self.server.protocol.descriptor, select.POLLIN)
        self.oom_seen = run.oom.read()
        self.accounting = RunAccounting(run.limits["memory_mb"], *child.accounting_view()) if run.accounting else None
        self.watch_interval = WATCH_SECONDS
        self.next_watch = None
        self._wait_for_start(time.monotonic(), first=True)

    # -- entry -----------------------------------------------------------------------------
    def run(self):
        """Follow the child to its end; returns the tests it did not get to."""
        try:
            self._follow()
            return self._conclude()
        finally:
            if not self.child_ended:
                self._end_child(defer=False)

    def expect_values(self):
        """The child evaluates the `output` expressions after its first `start` frame."""
        self.awaiting_expected = True

    def _follow(self):
        # A cancel read along with the run request (or during an earlier child of the
        # run) is already buffered: polling the descriptor would never show it.
        if self.server.protocol.take_cancel(self.server.current_request):
            self.ended = ("cancelled", None)
        while self.ended is None:
            for descriptor, _ in self.poller.poll(self._wait_ms()):
                if descriptor == self.server.protocol.descriptor:
                    self._on_protocol()
                elif self.ended is None:
                    self._read_results()
            if self.ended is None:
                self._parse_frames()
            if self.ended is None and not self.results_open:
                self.ended = ("died", None)
            if self.ended is None:
                self._check_clock(time.monotonic())

    # -- clocks ----------------------------------------------------------------------------
    def _wait_ms(self):
        moment = self.deadline if self.next_watch is None else min(self.deadline, self.next_watch)
        return max(0.0, moment - time.monotonic()) * 1000

    def _wait_for_start(self, now, first=False):
        """Between tests the child has a grace period, never past the run's budget."""
        left = self.run_state.budget_end - now
        self.deadline = now + min(START_GRACE_SECONDS, left)
        if left < START_GRACE_SECONDS:
            self.deadline_reason = ("budget", None)
        else:
            self.deadline_reason = ("died", "the child never started its tests" if first else None)
        self.next_watch = None

    def _start_clock(self, index, now):
        hard = self.deadlines[index][1]
        left = self.run_state.budget_end - now
        if left <= 0:
            self.ended = ("budget", None)
            return
        self.deadline = now + min(hard, left)
        self.deadline_reason = ("budget_cut", None) if left < hard else ("timeout", None)
        self.next_watch = now + self.watch_interval

    def _check_clock(self, now):
        if now >= self.deadline:
            self.ended = self.deadline_reason
        elif self.next_watch is not None and now >= self.next_watch:
            self._watch(now)

    def _watch(self, now):
        """A running test is stopped as soon as its output passes the cap or the run its memory."""
        if self._output_written() > self.run_state.limits["output_bytes"]:
            self.ended = ("output", None)
        elif self.accounting is not None and self.accounting.over():
            self.ended = ("memory", None)
        cost = time.monotonic() - now
        # Looking must stay cheap next to the test (without a pid namespace
        # of its own, /proc lists the whole host).
        self.watch_interval = max(WATCH_SECONDS, cost * 20)
        self.next_watch = time.monotonic() + self.watch_interval

    def _output_written(self):
        written = 0
        for position, descriptor in enumerate((self.child.stdout, self.child.stderr)):
            try:
                size = os.fstat(descriptor).st_size
            except OSError:
                continue
            start = self.started_at[position] if isinstance(self.started_at, list) and len(self.started_at) > position else 0
            written += size - (start if type(start) is int else 0)
        return written

    def _oom_grew(self):
        count = self.run_state.oom.read()
        grew = count is not None and self.oom_seen is not None and count > self.oom_seen
        if grew:
            self.run_state.oom_kills += count - self.oom_seen
        self.oom_seen = count
        return grew

    # -- input -----------------------------------------------------------------------------
    def _on_protocol(self):
        protocol = self.server.protocol
        protocol.fill()
        if protocol.closed:
            self.poller.unregister(protocol.descriptor)
        if protocol.take_cancel(self.server.current_request) or protocol.closed:
            self.ended = ("cancelled", None)

    def _read_results(self):
        while self.ended is None:
            try:
                chunk = os.read(self.child.results, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.results_open = False
                self.poller.unregister(self.child.results)
                return
            self.frames.extend(chunk)
            if len(self.frames) > bounds.FRAME_BYTES:
                self._parse_frames()
                if self.ended is None and len(self.frames) > bounds.FRAME_BYTES:
                    self.ended = ("protocol", "the harness channel overflowed")

    def _next_line(self):
        newline = self.frames.find(b"\n", self.scanned)
        if newline < 0:
            self.scanned = len(self.frames)
            return None
        line = bytes(self.frames[:newline])
        del self.frames[: newline + 1]
        self.scanned = 0
        return line

    def _parse_frames(self):
        while self.ended is None:
            line = self._next_line()
            if line is None:
                return
            frame = _signed_frame(line, self.key)
            if frame is None:
                self.ended = ("protocol", VIOLATION)
                return
            handler = self._HANDLERS.get(frame.get("t"))
            if handler is None:
                self.ended = ("protocol", VIOLATION)
                return
            handler(self, frame)

    # -- frames ----------------------------------------------------------------------------
    def _on_start(self, frame):
        index = frame.get("i")
        if self.current is not None or type(index) is not int or index not in self.by_index or index in self.finished:
            self.ended = ("protocol", VIOLATION)
            return
        self.current = index
        self.started_at = frame.get("o")
        self._start_clock(index, time.monotonic())

    def _on_expected(self, frame):
        if not self.awaiting_expected or self.current is None or not self.run_state.verdicts.expected_from(frame):
            self.ended = ("protocol", VIOLATION)
        self.awaiting_expected = False

    def _on_result(self, frame):
        if self.current is None or frame.get("i") != self.current or self.awaiting_expected:
            self.ended = ("protocol", VIOLATION)
            return
        index, self.current = self.current, None
        test = self.by_index[index]
        output = TestOutput.read(self.child, self.started_at, frame.get("o"), self.run_state.limits["output_bytes"])
        self.run_state.verdicts.record(test, frame, output, self.traced, self.run_state.results)
        self.finished.add(index)
        self._wait_for_start(time.monotonic())
        if self.traced:
            return
        if self._oom_grew():
            # A process of the run was killed for memory (maybe not this one).
            self.run_state.results[index] = self.run_state.verdicts.failure("memory", None, None, test, output)
            self.ended = ("after", "memory")
        elif output.truncated:
            # Its stdout file is at its size limit: the next test gets a fresh child.
            self.ended = ("after", "output")

    def _on_done(self, frame):
        if self.current is not None or self.awaiting_expected:
            self.ended = ("protocol", VIOLATION)
            return
        self.ended = ("done", None)

    _HANDLERS = {"start": _on_start, "expected": _on_expected, "result": _on_result, "done": _on_done}

    # -- the end -----------------------------------------------------------------------------
    def _end_child(self, defer):
        self.child_ended = True
        return self.server.children.end(self.child, defer=defer)

    def _conclude(self):
        reason, detail = self.ended
        current = self.current
        output = TestOutput()
        if current is not None:
            # What the test wrote before it ended belongs to its report (a
            # crash's own traceback among it).
            output = TestOutput.read(self.child, self.started_at, None, self.run_state.limits["output_bytes"])
        remaining = [test["index"] for test in self.tests if test["index"] not in self.finished]
        if reason == "done" and self.keep_alive:
            # It finished its tests and waits: the traced re-run may use it.
            self.child_ended = True
            self.server.lingering = (self.child, self.key)
            return self._tests(index for index in remaining if index != current)
        # A child that finished normally is reaped after the response; one
        # that died is reaped at once, its exit status tells what happened.
        status = self._end_child(defer=reason in ("done", "cancelled", "after"))
        if reason == "cancelled":
            raise Cancelled()
        if reason in ("done", "after"):
            return self._tests(index for index in remaining if index != current)
        victim = current if current is not None else (remaining[0] if remaining else None)
        if victim is None:
            return []
        self._report_ending(reason, detail, status, victim, output)
        return self._tests(index for index in remaining if index != victim)

    def _report_ending(self, reason, detail, status, victim, output):
        if reason == "died" and self.fresh and not self.finished and self.current is None:
            # Nothing of the program ran: the harness itself failed (Node checks the worker).
            self.run_state.harness_failures += 1
        if reason == "died" and self._oom_grew():
            reason = "memory"
        if self.traced and victim in self.run_state.results:
            return
        if output.truncated:
            reason = "output"  # the program wrote past the cap, whatever ended it
        self.run_state.results[victim] = self.run_state.verdicts.failure(reason, detail, status, self.by_index[victim], output)

    def _tests(self, indices):
        return [self.by_index[index] for index in indices]


def _signed_frame(line, key):
    """The frame as a dict when it parses and carries this child's key; None otherwise.

    Any exception counts as a bad frame: a program can make json.loads
    raise RecursionError (deep nesting) or MemoryError as well as ValueError."""
    try:
        frame = json.loads(line)
    except Exception:
        return None
    if not isinstance(frame, dict) or frame.get("k") != key:
        return None
    return frame
