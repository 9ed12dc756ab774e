/** The problem form: its choices come from the request schema's own lists, its values become a /v1/solve body. */
import { LANGUAGES, POLICY_NAMES, STRATEGY_NAMES, TRACE_FORMATS } from "../shared/schema/names.ts";
import { byId, h } from "./dom.ts";
import { EXAMPLE } from "./example.ts";

/** A form value the page cannot send: names the input as the person sees it. */
export class FormError extends Error {
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(`${label}: ${message}`);
  }
}

const value = (id: string): string => byId<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(id).value;

function fillSelect(id: string, options: readonly string[]): void {
  byId<HTMLSelectElement>(id).replaceChildren(...options.map((option) => h("option", { value: option }, option)));
}

export function setUpForm(): void {
  fillSelect("language", LANGUAGES);
  fillSelect("policy", POLICY_NAMES);
  fillSelect("strategy", STRATEGY_NAMES);
  fillSelect("trace-format", TRACE_FORMATS);
}

function testsFrom(id: string, label: string): unknown[] {
  const text = value(id).trim();
  if (text === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FormError(label, `not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new FormError(label, 'a JSON array of tests, e.g. [{"kind": "call", "args": [1], "expected": 2}]');
  return parsed;
}

function integerFrom(id: string, label: string): number | undefined {
  const text = value(id).trim();
  if (text === "") return undefined;
  const number = Number(text);
  if (!Number.isInteger(number)) throw new FormError(label, "a whole number");
  return number;
}

/** The form as a /v1/solve body; the server checks the rest and names any field it refuses. */
export function solveBody(): Record<string, unknown> {
  const code = value("code");
  const entryPoint = value("entry-point").trim();
  const n = integerFrom("n", "N");
  const rounds = integerFrom("rounds", "Rounds");
  return {
    problem: {
      language: value("language"),
      prompt: value("prompt"),
      ...(entryPoint === "" ? {} : { entry_point: entryPoint }),
      ...(code.trim() === "" ? {} : { code }),
      tests: testsFrom("tests", "Tests"),
      hidden_tests: testsFrom("hidden-tests", "Hidden tests"),
    },
    policy: value("policy"),
    strategy: value("strategy"),
    ...(n === undefined ? {} : { n }),
    ...(rounds === undefined ? {} : { rounds }),
    trace: { format: value("trace-format") },
  };
}

export function fillExample(): void {
  const set = (id: string, text: string): void => {
    byId<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(id).value = text;
  };
  set("language", "python");
  set("prompt", EXAMPLE.prompt);
  set("entry-point", EXAMPLE.entryPoint);
  set("code", EXAMPLE.code);
  set("tests", JSON.stringify(EXAMPLE.tests, null, 1));
  set("hidden-tests", JSON.stringify(EXAMPLE.hiddenTests, null, 1));
  set("policy", "auto");
}
