/**
 * Golden renderings: each recorded raw trace (test/golden/traces, recorded
 * from the sandbox by test/golden/record.ts) rendered in every format at two
 * budgets must match test/golden/renderings exactly. Regenerate after an
 * intended change with UPDATE_GOLDEN=1 and read the diff.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { TRACE_FORMATS, type TestReport } from "../src/shared/schema/execution.ts";
import { ExecuteRequest } from "../src/shared/schema/requests.ts";
import { render } from "../src/trace/index.ts";
import { GOLDEN_PROGRAMS } from "./golden/programs.ts";

const directory = path.join(import.meta.dirname, "golden");
const update = process.env["UPDATE_GOLDEN"] === "1";

describe.each(GOLDEN_PROGRAMS)("golden renderings of $name", (program) => {
  const request = ExecuteRequest.parse(program.request);
  const fixture = JSON.parse(readFileSync(path.join(directory, "traces", `${program.name}.json`), "utf8")) as { report: TestReport };

  for (const budget of program.budgets) {
    it.each(TRACE_FORMATS)(`%s within ${budget} characters`, (format) => {
      const text = render(format, request.code, request.tests[0], fixture.report, { budget, entryPoint: request.entry_point });
      expect(text.length).toBeLessThanOrEqual(budget);
      const file = path.join(directory, "renderings", `${program.name}.${budget}.${format}.txt`);
      if (update) writeFileSync(file, `${text}\n`);
      if (!existsSync(file)) throw new Error(`no golden rendering ${path.relative(process.cwd(), file)}: create it with UPDATE_GOLDEN=1 npx vitest run test/trace-golden.test.ts, then read it`);
      expect(`${text}\n`).toBe(readFileSync(file, "utf8"));
    });
  }
});
