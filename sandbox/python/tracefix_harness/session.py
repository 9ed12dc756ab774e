"""One traced test: the head of the trace, then fork checkpoints for its tail.

Main process
    records events until the head is full, then stops tracing (the program
    runs on at full speed) and forks checkpoint #0 right there. A wall-clock
    timer (ITIMER_REAL; the CPU-time timers only advance with the scheduler
    tick, 4-8 ms here) forks further checkpoints, more sparsely as the run gets
    longer; only #0 and the newest are kept. The same timer raises SoftTimeout
    at the test's soft deadline.

When the test ends (return, exception or the soft deadline), the main process
asks one checkpoint to replay:
    * from #0 when little ran after it: the replay counts every event, so the
      step numbers and the totals stay exact;
    * otherwise from the newest: its events are exact, the number of steps
      between the head and them is not known.

A replay that must find "the last K events" first runs to the end counting
lines only (about 5x slower than untraced), while a fork of itself waits; the
fork then counts up to total - K and records from there. A replay after a soft
timeout records the first K events from its checkpoint and stops.

Replays write nothing to the fork server's result channel or to the captured
output: they send their events on a private pipe and exit.
"""

import collections
import json
import os
import signal
import time

from .tracer import Counter, Recorder

_TICK_MIN_SECONDS = 0.002
_TICK_MAX_SECONDS = 0.005
# Replaying from checkpoint #0 keeps the counts exact (every step after the
# head is counted again). Counting runs about this many times slower than the
# untraced run it replays: checkpoint #0 is tried first while that fits in
# half the replay's time and _EXACT_COUNT_SECONDS, else the newest
# checkpoints give an exact tail and a lower bound of the steps. (Unbounded,
# exact counts doubled the traced re-run of a 100,000-iteration loop: 175 ->
# 360 ms; a repair search traces many programs.)
_COUNTING_SLOWDOWN = 8
_EXACT_COUNT_SECONDS = 0.05


def _read_command(descriptor):
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(descriptor, 4096)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


class SoftTimeout(BaseException):
    """Raised in a traced test shortly before the server's hard deadline, so its trace has an end."""


class TraceSession:
    def __init__(self, backend, codes, max_events, repr_limit, private_fds=(), soft_deadline=None):
        self.backend = backend
        self.codes = codes
        self.repr_limit = repr_limit
        self.tail_capacity = max(1, min(1000, max_events // 4))
        self.head_capacity = max(1, max_events - self.tail_capacity)
        self.head = []
        self.recorder = Recorder(repr_limit, self.head, capacity=self.head_capacity, on_full=self._overflow)
        self.private_fds = tuple(private_fds)
        self.truncated = False
        self.overflow_time = None
        self.checkpoints = []  # [(pid, control_fd, cpu_seconds, index)]
        self.checkpoint_count = 0
        self.tail_pipe = None
        self.role = "main"  # "main" | "replay"
        self.replay = None
        self.counter = None
        self.skipped = None
        self.counting_fork = None
        self.stopped = False
        self.previous_handler = None
        self.soft_deadline_seconds = soft_deadline
        self.deadline = None
        self.next_tick = None

    # -- main process ---------------------------------------------------------
    def start(self):
        if self.soft_deadline_seconds:
            self.deadline = time.monotonic() + self.soft_deadline_seconds
            self.previous_handler = signal.signal(signal.SIGALRM, self._alarm)
            self._arm()
        self.backend.start(self.recorder, self.codes)

    def _arm(self):
        """One timer serves both the soft deadline and the checkpoint ticks."""
        now = time.monotonic()
        moments = [moment for moment in (self.deadline, self.next_tick) if moment is not None]
        if not moments:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        signal.setitimer(signal.ITIMER_REAL, max(0.0005, min(moments) - now))

    def _overflow(self):
        self.backend.stop()
        self.recorder.settle_all()
        self.truncated = True
        self.overflow_time = time.monotonic()
        self.head_events = self.recorder.event_count
        self.head_lines = self.recorder.line_count
        self.tail_pipe = os.pipe()
        self._take_checkpoint()
        if self.role == "main":
            if self.previous_handler is None:
                self.previous_handler = signal.signal(signal.SIGALRM, self._alarm)
            self.next_tick = time.monotonic() + _TICK_MIN_SECONDS
            self._arm()

    def _alarm(self, signum, frame):
        if self.role != "main" or self.stopped:
            return
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            self.deadline = None
            self.next_tick = None
            signal.setitimer(signal.ITIMER_REAL, 0)
            raise SoftTimeout("the test ran past its time limit")
        if self.next_tick is not None and now >= self.next_tick:
            self._take_checkpoint()
            if self.role != "main":
                return
            elapsed = time.monotonic() - self.overflow_time
            self.next_tick = time.monotonic() + min(_TICK_MAX_SECONDS, max(_TICK_MIN_SECONDS, elapsed * 0.25))
        self._arm()

    def _take_checkpoint(self):
        control_read, control_write = os.pipe()
        moment = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(control_write)
            self._wait_as_checkpoint(control_read)
            return
        os.close(control_read)
        self.checkpoints.append((pid, control_write, moment, self.checkpoint_count))
        self.checkpoint_count += 1
        # Keep #0 (exact replays) and the two newest: a tick can land after
        # the candidate's last line, leaving the newest nothing to replay.
        while len(self.checkpoints) > 3:
            self._discard(self.checkpoints.pop(1))

    @staticmethod
    def _discard(checkpoint):
        pid, control, _, _ = checkpoint
        os.close(control)  # the checkpoint reads EOF and exits
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def stop(self):
        """The test is over in the main process: stop tracing and ticking."""
        if self.stopped:
            return
        self.stopped = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self.previous_handler is not None:
            signal.signal(signal.SIGALRM, self.previous_handler)
        if not self.truncated:
            self.backend.stop()
            self.recorder.settle_all()

    def trace(self, timed_out=False, replay_seconds=2.0):
        """The raw trace of this test (main process, after stop())."""
        result = {
            "events": self.head,
            "backend": self.backend.name,
            "truncated": self.truncated,
            "total_events": self.recorder.event_count,
            "total_steps": self.recorder.line_count,
            "gap": None,
        }
        if not self.truncated:
            return result
        tail = self._replay_tail(timed_out, replay_seconds)
        exact = tail is not None and tail.get("exact", False)
        if tail is None:
            result["total_events"] = None
            result["total_steps"] = None
            result["gap"] = {"after_step": self.head_events, "events": None, "reason": "tail unavailable"}
            return result
        events = tail["events"]
        if exact:
            offset = self.head_events
            for event in events:
                event["step"] += offset
            total_events = self.head_events + tail["events_after"]
            total_lines = self.head_lines + tail["lines_after"]
            first_step = events[0]["step"] if events else total_events + 1
            result["gap"] = {"after_step": self.head_events, "events": first_step - self.head_events - 1}
            result["total_events"] = total_events
            result["total_steps"] = total_lines
        else:
            for event in events:
                event["step"] = None
            result["gap"] = {"after_step": self.head_events, "events": None}
            result["total_events"] = None
            result["total_steps"] = None
            result["steps_at_least"] = self.head_lines + tail["lines_after"]
        if timed_out:
            result["gap"]["reason"] = "timeout: events recorded from a checkpoint shortly before the deadline"
        result["events"] = self.head + events
        return result

    def _replay_tail(self, timed_out, seconds):
        """Ask checkpoints, newest first, until one replays a full tail (or #0 gives an exact one)."""
        if not self.checkpoints:
            return None
        read_end, write_end = self.tail_pipe
        os.close(write_end)
        now = time.monotonic()
        deadline = now + seconds
        first = self.checkpoints[0]
        later = list(reversed(self.checkpoints[1:]))
        if not timed_out and (now - first[2]) * _COUNTING_SLOWDOWN <= min(seconds / 2, _EXACT_COUNT_SECONDS):
            # Exact counts first; should the replay take longer than expected, the newest checkpoints still give a tail.
            order = [(first, "exact", now + seconds / 2 if later else deadline)] + [(checkpoint, "last", deadline) for checkpoint in later]
        else:
            order = [(checkpoint, "first" if timed_out else "last", deadline) for checkpoint in later]
            order.append((first, "first" if timed_out else "exact", deadline))
        tail = None
        remaining = list(self.checkpoints)
        for checkpoint, mode, until in order:
            remaining.remove(checkpoint)
            candidate = self._replay_from(checkpoint, mode, read_end, until)
            if candidate is not None:
                candidate["exact"] = mode == "exact"
                if tail is None or len(candidate["events"]) > len(tail["events"]):
                    tail = candidate
                if candidate["exact"] or len(candidate["events"]) >= self.tail_capacity or timed_out:
                    break
        for checkpoint in remaining:
            self._discard(checkpoint)
        os.close(read_end)
        return tail

    def _replay_from(self, checkpoint, mode, read_end, deadline):
        import select

        command = {"mode": mode, "capacity": self.tail_capacity}
        try:
            os.write(checkpoint[1], (json.dumps(command) + "\n").encode())
        except OSError:
            self._discard(checkpoint)
            return None
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            data += chunk
            if data.endswith(b"\n"):
                break
        self._discard(checkpoint)
        try:
            return json.loads(data)
        except ValueError:
            return None

    # -- checkpoint and replay processes ---------------------------------------
    def _wait_as_checkpoint(self, control_read):
        self.role = "replay"
        self.checkpoints = []
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.close(self.tail_pipe[0])
        command = _read_command(control_read)
        if command is None:
            os._exit(0)
        os.close(control_read)
        self._silence()
        capacity = command["capacity"]
        if command["mode"] == "first":
            self.replay = Recorder(self.repr_limit, [], capacity=capacity, on_full=self._send_and_exit)
            self.backend.start(self.replay, self.codes, resume=True)
            return
        # "last" / "exact": count to the end while a fork of this process
        # waits; the fork then records the last `capacity` lines.
        control_read, control_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(control_write)
            command = _read_command(control_read)
            if command is None:
                os._exit(0)
            self.skipped = Counter(line_limit=max(1, command["lines"] - capacity + 1), on_limit=self._start_recording)
            self.backend.start_counting(self.skipped, self.codes)
            return
        os.close(control_read)
        self.counting_fork = (pid, control_write)
        self.counter = Counter()
        self.backend.start_counting(self.counter, self.codes)

    def _start_recording(self):
        """The replay reached the last `capacity` lines: record from here."""
        self.backend.stop()
        self.replay = Recorder(self.repr_limit, collections.deque(maxlen=self.tail_capacity))
        # The counted part is part of the totals.
        self.replay.event_count = self.skipped.event_count
        self.replay.line_count = self.skipped.line_count
        self.backend.start(self.replay, self.codes, resume=True)

    def _silence(self):
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        for descriptor in self.private_fds:
            try:
                os.close(descriptor)
            except OSError:
                pass

    def _send_and_exit(self):
        self.backend.stop()
        counting_fork = getattr(self, "counting_fork", None)
        if counting_fork is not None:
            # The counting pass is over: tell the waiting fork where to start.
            pid, control = counting_fork
            os.write(control, (json.dumps({"lines": self.counter.line_count}) + "\n").encode())
            os.close(control)
            os.waitpid(pid, 0)
            os._exit(0)
        recorder = self.replay
        if recorder is None:  # the run ended before the last lines were reached
            recorder = Recorder(self.repr_limit, [])
            recorder.event_count = self.skipped.event_count
            recorder.line_count = self.skipped.line_count
        recorder.settle_all()
        message = {
            "events": list(recorder.sink),
            "events_after": recorder.event_count,
            "lines_after": recorder.line_count,
        }
        data = (json.dumps(message) + "\n").encode()
        descriptor = self.tail_pipe[1]
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os._exit(0)

    def finish(self):
        """Called by the harness when the test body is over, in any process."""
        if self.role == "replay":
            self._send_and_exit()
        self.stop()
