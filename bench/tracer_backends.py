"""Times the head of a trace (recording every event) with each backend on one interpreter.

Prints JSON: {"python": "3.x.y", "settrace": seconds, "monitoring": seconds, "events": n}.
Used by bench/sandbox.ts; needs Python >= 3.12 (both backends).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sandbox", "python"))

from tracefix_harness import tracer  # noqa: E402
from tracefix_harness.tracer import Recorder  # noqa: E402

SOURCE = """
def work(n):
    total = 0
    items = []
    for i in range(n):
        if i % 3 == 0:
            total += i
            items.append(i)
        else:
            total -= 1
    return total
"""

code = compile(SOURCE, tracer.CANDIDATE_FILE, "exec")
namespace = {}
exec(code, namespace)
codes = tracer.code_objects(code)
result = {"python": ".".join(map(str, sys.version_info[:3]))}
for name in ("settrace", "monitoring"):
    best = float("inf")
    for _ in range(5):
        backend = tracer.make_backend(name)
        sink = []
        recorder = Recorder(80, sink)
        started = time.perf_counter()
        backend.start(recorder, codes)
        namespace["work"](3000)
        backend.stop()
        best = min(best, time.perf_counter() - started)
        if name == "monitoring":
            sys.monitoring.free_tool_id(backend.tool)
    result[name] = best
    result["events"] = len(sink)
print(json.dumps(result))
