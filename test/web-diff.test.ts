/** The playground's line diff (src/web/diff.ts): what a person reads as "what this edit changed". */
import { describe, expect, it } from "vitest";

import { compactDiff, lineDiff, plainLines } from "../src/web/diff.ts";

const BEFORE = "def f(xs):\n    n = 0\n    for x in xs[1:]:\n        n += x\n    return n\n";

describe("lineDiff", () => {
  it("shows a replaced line as the old one out, then the new one in, with both programs' line numbers", () => {
    const after = BEFORE.replace("xs[1:]", "xs");
    expect(lineDiff(BEFORE, after).filter((line) => line.kind !== "same")).toEqual([
      { kind: "del", text: "    for x in xs[1:]:", oldLine: 3 },
      { kind: "ins", text: "    for x in xs:", newLine: 3 },
    ]);
  });

  it("numbers the lines after an inserted or deleted one by their own program", () => {
    const after = BEFORE.replace("    return n\n", "        break\n    return n\n");
    const diff = lineDiff(BEFORE, after);
    expect(diff.find((line) => line.kind === "ins")).toEqual({ kind: "ins", text: "        break", newLine: 5 });
    expect(diff.at(-1)).toEqual({ kind: "same", text: "    return n", oldLine: 5, newLine: 6 });
    expect(lineDiff(after, BEFORE).filter((line) => line.kind !== "same")).toEqual([{ kind: "del", text: "        break", oldLine: 5 }]);
  });

  it("finds nothing to show between a program and itself, and shows a whole new program as added", () => {
    expect(lineDiff(BEFORE, BEFORE)).toEqual(plainLines(BEFORE));
    expect(lineDiff("", "a\nb\n")).toEqual([
      { kind: "ins", text: "a", newLine: 1 },
      { kind: "ins", text: "b", newLine: 2 },
    ]);
  });
});

describe("compactDiff", () => {
  it("keeps the changes and the lines around them, and drops the rest", () => {
    const long = Array.from({ length: 20 }, (_, index) => `line ${index + 1}`).join("\n");
    const changed = long.replace("line 10", "line ten");
    const shown = compactDiff(lineDiff(long, changed), 2);
    expect(shown.map((line) => line.text)).toEqual(["line 8", "line 9", "line 10", "line ten", "line 11", "line 12"]);
  });
});
