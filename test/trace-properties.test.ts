/**
 * Property: any trace, any budget, any format → a rendering within budget,
 * starting with the test feedback whenever the budget leaves room for it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { TRACE_FORMATS, type RawTrace, type TestReport, type TestSpec, type TraceEvent } from "../src/shared/schema/execution.ts";
import { render } from "../src/trace/index.ts";

const names = fc.constantFrom("i", "total", "items", "node", "x", "result", "a_very_long_variable_name_indeed");
const values = fc.oneof(fc.integer().map(String), fc.string({ maxLength: 40 }), fc.string({ minLength: 60, maxLength: 400 }));

const event: fc.Arbitrary<Omit<TraceEvent, "step">> = fc.record({
  event: fc.constantFrom("call", "line", "line", "line", "return", "exception"),
  line: fc.integer({ min: 1, max: 40 }),
  function: fc.constantFrom("f", "helper", "<genexpr>"),
  depth: fc.integer({ min: 1, max: 2_000 }),
  locals: fc.dictionary(names, values, { maxKeys: 6 }),
  changed: fc.subarray(["i", "total", "items", "node", "x", "result"]),
  value: values,
});

const trace: fc.Arbitrary<RawTrace> = fc
  .record({
    events: fc.array(event, { maxLength: 1_500 }),
    gapAt: fc.option(fc.integer({ min: 0, max: 1_500 })),
    gapKnown: fc.boolean(),
  })
  .map(({ events, gapAt, gapKnown }) => {
    const gapIndex = gapAt === null || gapAt >= events.length ? undefined : gapAt;
    const numbered = events.map((item, index): TraceEvent => ({
      ...item,
      step: gapIndex !== undefined && index >= gapIndex ? (gapKnown ? index + 1_000 : null) : index + 1,
    }));
    return {
      events: numbered,
      backend: "monitoring" as const,
      truncated: gapIndex !== undefined,
      total_events: gapIndex !== undefined && !gapKnown ? null : numbered.length + (gapIndex === undefined ? 0 : 999),
      total_steps: gapIndex !== undefined && !gapKnown ? null : numbered.length,
      gap: gapIndex === undefined ? null : { after_step: gapIndex, events: gapKnown ? 999 : null },
    };
  });

const report: fc.Arbitrary<TestReport> = fc.record({
  index: fc.constant(0),
  kind: fc.constant("call" as const),
  status: fc.constantFrom("wrong_answer", "runtime_error", "timeout", "memory_limit", "output_limit", "syntax_error"),
  expected: fc.option(values),
  actual: fc.option(values),
  stdout: fc.string({ maxLength: 300 }),
  stderr: fc.constant(""),
  output_truncated: fc.boolean(),
  error: fc.option(fc.record({ type: fc.constantFrom("ValueError", "Timeout"), message: values, line: fc.option(fc.integer({ min: 1, max: 40 })) })),
  steps: fc.constant(null),
  duration_ms: fc.constant(1),
  trace: fc.option(trace, { nil: undefined }),
});

const code = fc.array(fc.string({ maxLength: 120 }), { minLength: 1, maxLength: 60 }).map((lines) => lines.join("\n"));
const test: fc.Arbitrary<TestSpec> = fc.oneof(
  fc.record({ kind: fc.constant("call" as const), args: fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 300 })), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant("stdio" as const), stdin: fc.string({ maxLength: 500 }) }),
  fc.record({ kind: fc.constant("assert" as const), code: fc.string({ minLength: 1, maxLength: 800 }) }),
);

describe("renderings within budget", () => {
  it.each(TRACE_FORMATS)("%s: any trace and any budget fit", (format) => {
    fc.assert(
      fc.property(code, test, report, fc.integer({ min: 200, max: 12_000 }), (program, spec, outcome, budget) => {
        const text = render(format, program, spec, outcome, { budget, entryPoint: "f" });
        expect(text.length).toBeLessThanOrEqual(budget);
        if (budget >= 1_500) expect(text.startsWith("Test:")).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
