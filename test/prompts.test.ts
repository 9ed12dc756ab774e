/** Prompt templates are files, checked when they are loaded. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { loadPrompts, PROMPTS_DIRECTORY } from "../src/scaling/index.ts";

function copyPrompts(change: (file: string, text: string) => string): string {
  const directory = mkdtempSync(path.join(tmpdir(), "tracefix-prompts-"));
  for (const file of readdirSync(PROMPTS_DIRECTORY)) {
    writeFileSync(path.join(directory, file), change(file, readFileSync(path.join(PROMPTS_DIRECTORY, file), "utf8")));
  }
  return directory;
}

describe("prompt templates", () => {
  it("load from prompts/ and render the revision round in its shape", () => {
    const prompts = loadPrompts();
    const round = prompts.reviseRound.render({ label: "Round 2", language: "python", code: "x = 1", feedback: "Test: f(1)" });
    expect(round).toBe("[Round 2 Generated code]\n```python\nx = 1\n```\n[Round 2 Test Feedback]\nTest: f(1)");
  });

  it("refuse a template that uses a variable its code does not give", () => {
    const directory = copyPrompts((file, text) => (file === "revise.md" ? `${text}\n{{hidden_tests}}` : text));
    expect(() => loadPrompts(directory)).toThrow(/revise\.md uses unknown variables: hidden_tests/);
  });

  it("refuse a template that leaves out what it must show", () => {
    const directory = copyPrompts((file, text) => (file === "revise.md" ? text.replace("{{history}}", "") : text));
    expect(() => loadPrompts(directory)).toThrow(/revise\.md must use: history/);
  });

  it("refuse to render without a value", () => {
    expect(() => loadPrompts().generate.render({ language: "python" })).toThrow(/needs problem/);
  });
});
