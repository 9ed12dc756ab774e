"""Traces programs with both backends in one interpreter (Python >= 3.12) and prints both event lists.

stdin: [{"name", "code", "entry_point", "args"}]; stdout: {name: {"settrace": [...], "monitoring": [...]}}
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "sandbox", "python"))

from tracefix_harness import tracer  # noqa: E402
from tracefix_harness.session import TraceSession  # noqa: E402

programs = json.load(sys.stdin)
result = {}
for program in programs:
    code = compile(program["code"], tracer.CANDIDATE_FILE, "exec")
    codes = tracer.code_objects(code)
    traces = {}
    for name in ("settrace", "monitoring"):
        namespace = {"__name__": "solution"}
        exec(code, namespace)
        function = namespace[program["entry_point"]]
        session = TraceSession(tracer.make_backend(name), codes, 100_000, 80)
        session.start()
        try:
            function(*program["args"])
        except Exception:
            pass
        session.finish()
        traces[name] = session.trace()["events"]
    result[program["name"]] = traces
print(json.dumps(result))
