"""How big an answer may get, and how it is cut to fit.

Everything a run reports travels to Node as one JSON line. Without bounds a
program decides its size (16 MB of control characters are 96 MB of JSON
escapes; 25 locals of 2,000 characters over 1,250 events and 10 traced tests
are 600 MB) and Node cannot even hold it as a string. So sizes are bounded
here, by encoded bytes, before anything is joined:

* each test shows at most STREAM_SHOWN_BYTES of its stdout and of its stderr
  (verdicts are computed on the full output before the cut);
* each trace at most TRACE_BYTES: its head and its tail are kept, the middle
  becomes (part of) the trace's gap;
* a run at most RUN_REPLY_BYTES: tests are encoded in order, and once the
  earlier ones used the budget the later ones get smaller shares (never less
  than MIN_TEST_SHARE each).

What was cut is counted in the test's `omitted` field.
"""

import json

# The builtins as they were at import (see values.py).
__builtins__ = dict(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))

STREAM_SHOWN_BYTES = 1 << 20
TRACE_BYTES = 4 << 20
RUN_REPLY_BYTES = 16 << 20
MIN_TEST_SHARE = 16 << 10
# The canonical return value a child may send for comparison (it is compared,
# never shown, but it travels in the result frame).
VALUE_BYTES = 8 << 20
# The longest frame a legitimate child writes: a result with its value and trace.
FRAME_BYTES = RUN_REPLY_BYTES + (1 << 20)
# A JSON string escape is at most 6 bytes per input byte (\u0001).
_WORST_EXPANSION = 6
_BATCH = 64
_SHORT_TEXT = 256

ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encode(value):
    # iterencode goes straight to the C encoder: JSONEncoder.encode first asks
    # the builtin isinstance, which a program may have replaced.
    return "".join(ENCODER.iterencode(value, _one_shot=True))


def _utf8_boundary(data, end):
    """`end` moved back to the start of a UTF-8 sequence, so that a cut does not split a character."""
    while 0 < end < len(data) and (data[end] & 0xC0) == 0x80:
        end -= 1
    return end


def shown_bytes(data, limit=STREAM_SHOWN_BYTES):
    """(text, omitted byte count): the head of `data` whose JSON encoding fits `limit` bytes."""
    if len(data) * _WORST_EXPANSION <= limit:
        return data.decode("utf-8", "replace"), 0
    end = _utf8_boundary(data, min(len(data), limit))
    text = data[:end].decode("utf-8", "replace")
    size = len(encode(text))
    while size > limit and end > 0:
        end = _utf8_boundary(data, int(end * limit / size * 0.98))
        text = data[:end].decode("utf-8", "replace")
        size = len(encode(text))
    return text, len(data) - end


def shown_text(text, limit):
    """(text, omitted byte count) for a string already decoded."""
    if len(text) * _WORST_EXPANSION <= limit:
        return text, 0
    shown, omitted = shown_bytes(text.encode("utf-8", "replace"), limit)
    return shown, omitted


def short(text, limit=_SHORT_TEXT):
    return text if not isinstance(text, str) or len(text) <= limit else text[: limit - 1] + "…"


# -- traces ---------------------------------------------------------------------------
def _encoded_events(events, start, stop, step, budget):
    """Encoded events from `start` towards `stop` (step ±1) while they fit `budget` bytes.

    Batches keep the encoder's per-call cost out of the common case (a trace
    that fits); only the batch that crosses the budget is encoded one by one."""
    pieces = []
    used = 0
    position = start
    while position != stop:
        batch_end = position + step * min(_BATCH, abs(stop - position))
        batch = events[position:batch_end] if step > 0 else events[batch_end + 1 : position + 1][::-1]
        text = encode(batch)[1:-1]
        if used + len(text) + 1 <= budget:
            pieces.append(text)
            used += len(text) + 1
            position = batch_end
            continue
        for event in batch:
            text = encode(event)
            if used + len(text) + 1 > budget:
                return pieces, position, used
            pieces.append(text)
            used += len(text) + 1
            position += step
    return pieces, position, used


def _head_length(trace):
    """How many events belong to the trace's head (before its own gap), when it has one."""
    gap = trace.get("gap")
    events = trace["events"]
    if not isinstance(gap, dict):
        return len(events)
    after = gap.get("after_step")
    for index, event in enumerate(events):
        step = event.get("step") if isinstance(event, dict) else None
        if step is None or not isinstance(after, int) or step > after:
            return index
    return len(events)


def _mark_cut(trace, head, tail, omitted, limit):
    """The trace says where its events were cut and why (its gap)."""
    events = trace["events"]
    kept_head = events[:head]
    kept_tail = events[len(events) - tail :] if tail else []
    previous = trace.get("gap") if isinstance(trace.get("gap"), dict) else None
    after = kept_head[-1].get("step") if kept_head and isinstance(kept_head[-1].get("step"), int) else 0
    first_tail = kept_tail[0].get("step") if kept_tail else None
    gap_events = first_tail - after - 1 if isinstance(first_tail, int) else None
    if first_tail is None and kept_tail == [] and isinstance(trace.get("total_events"), int):
        gap_events = trace["total_events"] - after
    reason = f"size: {omitted} events left out to keep the trace within {limit} bytes"
    if previous is not None and previous.get("reason"):
        reason = f"{previous['reason']}; {reason}"
    trace["gap"] = {"after_step": after, "events": gap_events, "reason": reason}
    trace["truncated"] = True
    trace["events"] = kept_head + kept_tail


def cut_trace(trace, limit=TRACE_BYTES):
    """Cut `trace` (a raw trace dict) in place so that its events fit `limit` bytes.

    Returns the number of events left out (0 when it fitted). The head keeps
    three quarters of the room, the tail the rest; a trace that already had a
    gap (head, unrecorded middle, tail) is cut next to that gap."""
    events = trace.get("events")
    if not isinstance(events, list):
        trace["events"] = []
        return 0
    _, reached, _ = _encoded_events(events, 0, len(events), 1, limit)
    if reached == len(events):
        return 0
    has_gap = isinstance(trace.get("gap"), dict)
    split = _head_length(trace) if has_gap else len(events)
    _, head, used = _encoded_events(events, 0, split, 1, limit * 3 // 4)
    # The kept tail never reaches back over an existing gap: one gap only.
    floor = split if has_gap else head
    _, tail_start, _ = _encoded_events(events, len(events) - 1, floor - 1, -1, limit - used)
    tail = len(events) - 1 - tail_start
    omitted = len(events) - head - tail
    _mark_cut(trace, head, tail, omitted, limit)
    return omitted


def encode_trace(trace, limit=TRACE_BYTES):
    """(JSON text of `trace` within `limit` bytes, events left out).

    A trace that fits is encoded once (the pieces are the text); only one
    that does not is cut and encoded again."""
    events = trace.get("events")
    if not isinstance(events, list):
        events = trace["events"] = []
    pieces, reached, _ = _encoded_events(events, 0, len(events), 1, limit)
    omitted = 0
    if reached == len(events):
        events_text = "[" + ",".join(pieces) + "]"
    else:
        omitted = cut_trace(trace, limit)
        events_text = encode(trace["events"])
    rest = encode({key: value for key, value in trace.items() if key != "events"})
    return '{"events":' + events_text + ("," + rest[1:] if len(rest) > 2 else "}"), omitted


# -- reports --------------------------------------------------------------------------
def add_omitted(result, key, count):
    if count <= 0:
        return
    omitted = result.setdefault("omitted", {})
    omitted[key] = omitted.get(key, 0) + count


def _shrink_texts(result, room):
    for key in ("stdout", "stderr"):
        if isinstance(result.get(key), str):
            result[key], cut = shown_text(result[key], room)
            add_omitted(result, f"{key}_bytes", cut)


def _shrink_details(result):
    """The last resort for a report over its share: every shown value short."""
    for key in ("expected", "actual"):
        result[key] = short(result.get(key))
    error = result.get("error")
    if isinstance(error, dict):
        for key in ("message", "traceback"):
            if key in error:
                error[key] = short(error[key], 1000)


def _fixed_size(result):
    rest = {key: value for key, value in result.items() if key not in ("stdout", "stderr", "trace")}
    return len(encode(rest))


def encode_test(result, share):
    """The JSON of one test report within `share` bytes (cutting output, then trace, then values)."""
    text = encode(result)
    if len(text) <= share:
        return text
    if _fixed_size(result) > share // 2:
        _shrink_details(result)
    room = max(_SHORT_TEXT, share - _fixed_size(result) - 512)
    trace = result.get("trace")
    if isinstance(trace, dict):
        add_omitted(result, "trace_events", cut_trace(trace, room // 2))
        room -= len(encode(trace))
    _shrink_texts(result, max(_SHORT_TEXT, room // 2))
    return encode(result)


def encode_tests(results, budget=RUN_REPLY_BYTES):
    """The JSON array of a run's test reports within `budget` bytes; earlier tests first served."""
    texts = []
    left = budget
    for position, result in enumerate(results):
        reserve = (len(results) - position - 1) * MIN_TEST_SHARE
        text = encode_test(result, max(MIN_TEST_SHARE, left - reserve))
        left -= len(text) + 1
        texts.append(text)
    return "[" + ",".join(texts) + "]"
