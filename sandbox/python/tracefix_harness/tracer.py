"""Line-level execution traces of the candidate's own code.

Events (one dict each, JSON-ready):
    {"step", "event": "call" | "line" | "return" | "exception",
     "line", "function", "depth", "locals", "changed", "value"}

* `line` events describe a *completed* line: `locals` is the state after the
  line ran and `changed` the names it created or modified. A line that raised
  keeps the state at the moment of the exception.
* `call` carries the arguments as `locals`; `return` the returned (or
  yielded) value; `exception` the exception as "Type: message", once in every
  candidate frame it passes through. A frame left by an exception gets no
  `return` event.
* Only code compiled from the candidate (filename "<candidate>") is traced.

Two backends produce identical events: `sys.settrace` (Python ≤ 3.11) and
`sys.monitoring` (≥ 3.12, measured faster there, see bench/sandbox.ts).

Budget: the first `head_capacity` events are kept. After that the run goes on
untraced, at full speed, while checkpoints.py takes fork checkpoints; when the
test ends, the newest checkpoint re-runs the rest of the test traced and sends
back the last `tail_capacity` events, so the steps just before an error (or a
wrong return) are always in the trace. Counting every line after the budget
would already cost 5-9x (measured), which is why the run is not traced to its
end.
"""

import bisect
import collections
import dis
import sys
import types

from .values import bounded_repr, truncate

CANDIDATE_FILE = "<candidate>"

_NORMAL_EXIT_OPCODES = {
    dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST", "YIELD_VALUE") if name in dis.opmap
}
_YIELD_VALUE = dis.opmap["YIELD_VALUE"]
_RESUME = dis.opmap.get("RESUME")


def _is_normal_exit(frame):
    """settrace's 'return' event: a return or a yield, not a frame left by an exception."""
    code = frame.f_code.co_code
    last = frame.f_lasti
    opcode = code[last]
    if opcode in _NORMAL_EXIT_OPCODES:
        return True
    # 3.13 reports a yield with f_lasti already on the RESUME after YIELD_VALUE.
    return opcode == _RESUME and last >= 2 and code[last - 2] == _YIELD_VALUE


class LineTable:
    """Offset -> line of a code object, for telling same-line backward jumps apart."""

    def __init__(self):
        self.tables = {}

    def line(self, code, offset):
        table = self.tables.get(code)
        if table is None:
            starts, lines = [], []
            for start, _end, line in code.co_lines():
                starts.append(start)
                lines.append(line)
            table = self.tables[code] = (starts, lines)
        starts, lines = table
        position = bisect.bisect_right(starts, offset) - 1
        return lines[position] if position >= 0 else None
_HIDDEN_TYPES = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
)
_SIMPLE_SCALARS = (bool, type(None), float)


class FrameState:
    __slots__ = ("frame", "function", "depth", "previous", "pending")

    def __init__(self, frame, depth):
        self.frame = frame
        self.function = frame.f_code.co_name
        self.depth = depth
        self.previous = {}
        self.pending = None


def candidate_depth(frame):
    """How many candidate frames are on the stack, this one included."""
    depth = 0
    while frame is not None:
        if frame.f_code.co_filename == CANDIDATE_FILE:
            depth += 1
        frame = frame.f_back
    return depth


def describe_exception(exception):
    name = type(exception).__name__
    try:
        message = str(exception)
    except BaseException:
        message = "<unprintable message>"
    return f"{name}: {message}" if message else name


class Probe:
    """inspect: the value of an expression each time one line of the
    candidate is about to run, in that frame. The first and the last
    PROBE_KEEP values are kept, the ones between only counted.

    The expression is the asker's (a model's), evaluated in the candidate's
    own sandboxed process like the candidate's code; the callbacks of both
    tracing backends fire no events for what it runs."""

    KEEP = 16

    def __init__(self, line, expression, repr_limit):
        self.line = int(line)
        self.expression = expression
        self.repr_limit = repr_limit
        self.count = 0
        self.first = []
        self.last = collections.deque(maxlen=self.KEEP)
        self.error = None
        self.evaluating = False
        try:
            self.code = compile(expression, "<inspect>", "eval")
        except (SyntaxError, ValueError) as error:
            self.code = None
            self.error = describe_exception(error)

    def observe(self, frame, step):
        if self.code is None or self.evaluating:
            return
        self.evaluating = True
        try:
            entry = {"step": step, "value": bounded_repr(eval(self.code, frame.f_globals, frame.f_locals), self.repr_limit)}
        except Exception as error:  # the expression's own failure is a value to report; a timeout is not caught
            entry = {"step": step, "error": truncate(describe_exception(error), max(self.repr_limit, 200))}
        finally:
            self.evaluating = False
        self.count += 1
        if len(self.first) < self.KEEP:
            self.first.append(entry)
        else:
            self.last.append(entry)

    def result(self):
        result = {
            "line": self.line,
            "expression": self.expression,
            "count": self.count,
            "first": self.first,
            "last": list(self.last),
        }
        if self.error is not None:
            result["error"] = self.error
        return result


class Recorder:
    """Builds events; the backends call it. `sink` is a list (head) or a deque (tail)."""

    def __init__(self, repr_limit, sink, capacity=None, on_full=None, count_until=None):
        self.repr_limit = repr_limit
        self.sink = sink
        self.capacity = capacity
        self.on_full = on_full
        self.event_count = 0
        self.line_count = 0
        self.depth = 0
        # In counting mode nothing is recorded until `count_until` lines have
        # run; used by a replay that only wants the last events.
        self.count_until = count_until
        self.recording = count_until is None
        # Frames entered and not yet left: their last line is settled when
        # recording stops in the middle of the run.
        self.live = set()
        # inspect's expression at one line (Probe), when asked for.
        self.probe = None

    # -- state --------------------------------------------------------------
    def snapshot(self, frame):
        limit = self.repr_limit
        state = {}
        for name, value in frame.f_locals.items():
            if name.startswith("__") or name.startswith("."):
                continue
            value_type = type(value)
            if value_type is int:
                text = repr(value) if -(10**15) < value < 10**15 else bounded_repr(value, limit)
            elif value_type is str and len(value) < limit - 2:
                text = repr(value)
                if len(text) > limit:
                    text = bounded_repr(value, limit)
            elif value_type in _SIMPLE_SCALARS:
                text = repr(value)
            elif isinstance(value, _HIDDEN_TYPES):
                continue
            else:
                text = bounded_repr(value, limit)
            state[name] = text
        return state

    def settle(self, state, frame):
        event = state.pending
        if event is None:
            return
        current = self.snapshot(frame)
        previous = state.previous
        event["locals"] = current
        event["changed"] = [name for name, text in current.items() if previous.get(name) != text]
        state.previous = current
        state.pending = None

    def state_for(self, frame):
        """A frame first seen mid-flight (a replay resumed inside it)."""
        state = FrameState(frame, candidate_depth(frame))
        if self.recording:
            state.previous = self.snapshot(frame)
        self.live.add(state)
        return state

    def settle_all(self):
        for state in self.live:
            if state.pending is not None:
                self.settle(state, state.frame)

    def _emit(self, event):
        event["step"] = self.event_count
        self.sink.append(event)
        if self.capacity is not None and len(self.sink) >= self.capacity and self.on_full is not None:
            self.on_full()

    # -- events -------------------------------------------------------------
    def call(self, frame):
        self.event_count += 1
        self.depth += 1
        state = FrameState(frame, self.depth)
        self.live.add(state)
        if self.recording:
            current = self.snapshot(frame)
            state.previous = current
            self._emit(
                {
                    "event": "call",
                    "line": frame.f_lineno,
                    "function": state.function,
                    "depth": state.depth,
                    "locals": current,
                    "changed": list(current),
                }
            )
        return state

    def line(self, state, frame):
        self.event_count += 1
        self.line_count += 1
        if not self.recording:
            if self.count_until is None or self.line_count < self.count_until:
                return
            self.recording = True
            state.previous = self.snapshot(frame)
        if state.pending is not None:
            self.settle(state, frame)
        event = {"event": "line", "line": frame.f_lineno, "function": state.function, "depth": state.depth}
        state.pending = event
        self._emit(event)
        probe = self.probe
        if probe is not None and probe.line == event["line"]:
            probe.observe(frame, event["step"])

    def returned(self, state, frame, value):
        self.event_count += 1
        self.depth -= 1
        self.live.discard(state)
        if not self.recording:
            return
        self.settle(state, frame)
        self._emit(
            {
                "event": "return",
                "line": frame.f_lineno,
                "function": state.function,
                "depth": state.depth,
                "value": bounded_repr(value, self.repr_limit),
            }
        )

    def unwound(self, state, frame):
        self.depth -= 1
        self.live.discard(state)
        if self.recording:
            self.settle(state, frame)

    def raised(self, state, frame, exception):
        self.event_count += 1
        if not self.recording:
            return
        self.settle(state, frame)
        self._emit(
            {
                "event": "exception",
                "line": frame.f_lineno,
                "function": state.function,
                "depth": state.depth,
                "value": truncate(describe_exception(exception), max(self.repr_limit, 200)),
            }
        )


class Counter:
    """Counts events without recording them: the cheap first pass of a replay.

    When `line_limit` lines have run it calls `on_limit` (which switches to a
    real Recorder), so a replay can skip to the last events of a run.
    """

    __slots__ = ("line_count", "event_count", "line_limit", "on_limit")

    def __init__(self, line_limit=None, on_limit=None):
        self.line_count = 0
        self.event_count = 0
        self.line_limit = line_limit if line_limit is not None else float("inf")
        self.on_limit = on_limit


class SettraceBackend:
    """sys.settrace: one closure per candidate frame holds its FrameState."""

    name = "settrace"

    def __init__(self):
        self.recorder = None

    def _local(self, state):
        def local(frame, event, argument):
            recorder = self.recorder
            if recorder is None:
                return None
            if event == "line":
                recorder.line(state, frame)
            elif event == "return":
                if _is_normal_exit(frame):
                    recorder.returned(state, frame, argument)
                else:
                    recorder.unwound(state, frame)
            elif event == "exception":
                recorder.raised(state, frame, argument[1])
            # Returning the frame's current tracer lets start()/stop() called
            # from inside this callback (a checkpoint) take effect.
            return frame.f_trace

        return local

    def _global(self, frame, event, argument):
        if frame.f_code.co_filename != CANDIDATE_FILE or self.recorder is None:
            return None
        return self._local(self.recorder.call(frame))

    def start_counting(self, counter, codes):
        """Count lines (and events) with the least work per line, from inside a running test."""
        self.recorder = None

        def local(frame, event, argument):
            counter.event_count += 1
            if event == "line":
                counter.line_count += 1
                if counter.line_count >= counter.line_limit:
                    counter.on_limit()
            return frame.f_trace

        def global_trace(frame, event, argument):
            if frame.f_code.co_filename != CANDIDATE_FILE:
                return None
            counter.event_count += 1
            return local

        sys.settrace(global_trace)
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == CANDIDATE_FILE:
                frame.f_trace = local
                frame.f_trace_lines = True
            frame = frame.f_back

    def start(self, recorder, codes, resume=False):
        self.recorder = recorder
        sys.settrace(self._global)
        if resume:
            # Frames already running when a replay resumes get a tracer now.
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename == CANDIDATE_FILE:
                    frame.f_trace = self._local(recorder.state_for(frame))
                    frame.f_trace_lines = True
                frame = frame.f_back

    def stop(self):
        self.recorder = None
        sys.settrace(None)
        frame = sys._getframe(1)
        while frame is not None:
            frame.f_trace = None
            frame = frame.f_back


class MonitoringBackend:
    """sys.monitoring (PEP 669): local events on the candidate's code objects only."""

    name = "monitoring"

    def __init__(self):
        monitoring = sys.monitoring
        self.monitoring = monitoring
        self.events = monitoring.events
        self.tool = None
        for tool in range(6):
            try:
                monitoring.use_tool_id(tool, "tracefix")
            except ValueError:
                continue
            self.tool = tool
            break
        if self.tool is None:
            raise RuntimeError("no free sys.monitoring tool id")
        self.recorder = None
        self.states = {}
        self.codes = ()
        events = self.events
        # JUMP: sys.monitoring's LINE fires when the line changes, settrace's
        # also on a backward jump within a line (one-line loops, inlined
        # comprehensions); JUMP events make up the difference.
        self.local_events = (
            events.PY_START | events.PY_RESUME | events.LINE | events.PY_RETURN | events.PY_YIELD | events.JUMP
        )
        self.global_events = events.RAISE | events.PY_UNWIND
        self.line_table = LineTable()
        self.disable = monitoring.DISABLE

    def _state(self, frame):
        state = self.states.get(frame)
        if state is None:
            state = self.states[frame] = self.recorder.state_for(frame)
        return state

    def _start(self, code, offset):
        recorder = self.recorder
        if recorder is not None:
            frame = sys._getframe(1)
            self.states[frame] = recorder.call(frame)

    def _line(self, code, line_number):
        recorder = self.recorder
        if recorder is not None:
            frame = sys._getframe(1)
            state = self.states.get(frame)
            if state is None:
                state = self._state(frame)
            recorder.line(state, frame)

    def _same_line_backward(self, code, source, destination):
        if destination >= source:
            return False
        line = self.line_table.line(code, destination)
        return line is not None and line == self.line_table.line(code, source)

    def _jump(self, code, source, destination):
        if not self._same_line_backward(code, source, destination):
            return self.disable  # this jump never makes a line event: stop reporting it
        recorder = self.recorder
        if recorder is not None:
            frame = sys._getframe(1)
            state = self.states.get(frame)
            if state is None:
                state = self._state(frame)
            recorder.line(state, frame)
        return None

    def _return(self, code, offset, value):
        recorder = self.recorder
        if recorder is not None:
            frame = sys._getframe(1)
            state = self.states.pop(frame, None) or recorder.state_for(frame)
            recorder.returned(state, frame, value)

    def _raise(self, code, offset, exception):
        recorder = self.recorder
        if recorder is not None and code.co_filename == CANDIDATE_FILE:
            frame = sys._getframe(1)
            recorder.raised(self._state(frame), frame, exception)

    def _unwind(self, code, offset, exception):
        recorder = self.recorder
        if recorder is not None and code.co_filename == CANDIDATE_FILE:
            frame = sys._getframe(1)
            state = self.states.pop(frame, None) or recorder.state_for(frame)
            recorder.unwound(state, frame)

    def start_counting(self, counter, codes):
        """Count lines (and events) with the least work per line, from inside a running test."""
        monitoring = self.monitoring
        events = self.events
        self.recorder = None
        self.codes = codes

        def line(code, line_number):
            counter.line_count += 1
            counter.event_count += 1
            if counter.line_count >= counter.line_limit:
                counter.on_limit()

        def other(*arguments):
            counter.event_count += 1

        def raised(code, offset, exception):
            if code.co_filename == CANDIDATE_FILE:
                counter.event_count += 1

        def jump(code, source, destination):
            if not self._same_line_backward(code, source, destination):
                return self.disable
            line(code, None)
            return None

        monitoring.register_callback(self.tool, events.LINE, line)
        for event in (events.PY_START, events.PY_RESUME, events.PY_RETURN, events.PY_YIELD):
            monitoring.register_callback(self.tool, event, other)
        monitoring.register_callback(self.tool, events.RAISE, raised)
        monitoring.register_callback(self.tool, events.PY_UNWIND, None)
        monitoring.register_callback(self.tool, events.JUMP, jump)
        for code in codes:
            monitoring.set_local_events(self.tool, code, self.local_events)
        monitoring.set_events(self.tool, events.RAISE)
        monitoring.restart_events()

    def _register_recording(self):
        events = self.events
        register = self.monitoring.register_callback
        register(self.tool, events.PY_START, self._start)
        register(self.tool, events.PY_RESUME, self._start)
        register(self.tool, events.LINE, self._line)
        register(self.tool, events.PY_RETURN, self._return)
        register(self.tool, events.PY_YIELD, self._return)
        register(self.tool, events.RAISE, self._raise)
        register(self.tool, events.PY_UNWIND, self._unwind)
        register(self.tool, events.JUMP, self._jump)

    def start(self, recorder, codes, resume=False):
        self._register_recording()
        self.recorder = recorder
        self.states = {}
        self.codes = codes
        for code in codes:
            self.monitoring.set_local_events(self.tool, code, self.local_events)
        self.monitoring.set_events(self.tool, self.global_events)
        self.monitoring.restart_events()

    def stop(self):
        self.recorder = None
        self.states = {}
        self.monitoring.set_events(self.tool, 0)
        for code in self.codes:
            self.monitoring.set_local_events(self.tool, code, 0)


def code_objects(code):
    """Every code object defined in the candidate's module, nested ones included."""
    found = []
    pending = [code]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(constant for constant in current.co_consts if isinstance(constant, types.CodeType))
    return found


def make_backend(preferred=None):
    if preferred == "settrace" or (preferred is None and sys.version_info < (3, 12)):
        return SettraceBackend()
    return MonitoringBackend()
