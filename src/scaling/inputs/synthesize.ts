/**
 * Inputs to compare candidates on, beyond the public tests: written by the
 * model (prompts/synthesize-inputs.md; lines that are not argument lists of
 * the right arity are dropped and counted), then made without a model by
 * mutating the public tests' arguments (mutate.ts), or, when no public test
 * has arguments to mutate, from the entry point's signature and the
 * description (signature.ts). De-duplicated against the public tests and
 * each other, capped at `inputs.max`.
 */
import { addUsage, NO_USAGE, usageOfFailure, type LanguageModel, type TokenUsage } from "../../policy/index.ts";
import { AbortedError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Prompts } from "../../shared/prompts.ts";
import type { Language, TestSpec } from "../../shared/schema/execution.ts";
import type { InputSettings } from "../../shared/schema/solve.ts";
import { entryPointInstruction, fromJson, LiteralError, parseLiteral, printLiteral, testText, toJson, type PyValue } from "../../trace/index.ts";
import { argumentsOf, mutateArguments } from "./mutate.ts";
import { signatureInputs } from "./signature.ts";

export interface InputProblem {
  readonly language: Language;
  readonly prompt: string;
  readonly entryPoint: string | undefined;
  readonly tests: readonly TestSpec[];
}

/** How inputs are written in each language: Python literals, or JSON for JavaScript. */
interface InputLanguage {
  /** A call test with these arguments; undefined when the language's tests cannot hold them. */
  callTest(items: readonly PyValue[]): TestSpec | undefined;
  /** One line the model wrote, as a value (throws LiteralError). */
  parseLine(line: string): PyValue;
  /** What the model is asked to write, each line. */
  format(example: readonly PyValue[] | undefined, callProblem: boolean): string;
}

const INPUT_LANGUAGES: Readonly<Record<Language, InputLanguage>> = {
  python: {
    callTest: (items) => ({ kind: "call", input: printLiteral({ type: "list", items: [...items] }) }),
    parseLine: parseLiteral,
    format: (example, callProblem) =>
      callProblem
        ? `each line the argument list of one call as a Python list, e.g. ${example === undefined ? "[1, 'a']" : printLiteral({ type: "list", items: [...example] })}`
        : "each line the whole standard input as one Python string literal",
  },
  javascript: {
    callTest: (items) => {
      const args = toJson({ type: "list", items: [...items] });
      return Array.isArray(args) ? { kind: "call", args } : undefined;
    },
    parseLine: (line) => {
      try {
        return fromJson(JSON.parse(line));
      } catch (error) {
        throw new LiteralError(`not JSON: ${(error as Error).message}`);
      }
    },
    format: (example, callProblem) => {
      const shown = example === undefined ? undefined : toJson({ type: "list", items: [...example] });
      return callProblem
        ? `each line the argument list of one call as a JSON array, e.g. ${shown === undefined ? '[1, "a"]' : JSON.stringify(shown)}`
        : "each line the whole standard input as one JSON string";
    },
  },
};

function isCallProblem(problem: InputProblem): boolean {
  return problem.entryPoint !== undefined && !problem.tests.some((test) => test.kind === "stdio");
}

/** One model-written line as a test, or undefined when it is not a valid input. */
function testFromLine(problem: InputProblem, line: string, arity: number | undefined): TestSpec | undefined {
  const writing = INPUT_LANGUAGES[problem.language];
  let value: PyValue;
  try {
    value = writing.parseLine(line);
  } catch (error) {
    if (!(error instanceof LiteralError)) throw error;
    return undefined;
  }
  if (!isCallProblem(problem)) return value.type === "str" ? { kind: "stdio", stdin: value.value } : undefined;
  if ((value.type !== "list" && value.type !== "tuple") || (arity !== undefined && value.items.length !== arity)) return undefined;
  return writing.callTest(value.items);
}

/** Arguments (call problems) or stdin texts (stdio problems) the model wrote, validated. */
export function parseModelInputs(text: string, problem: InputProblem, arity: number | undefined): { tests: TestSpec[]; dropped: number } {
  const block = /```[^\n]*\n([\s\S]*?)```/.exec(text)?.[1] ?? text;
  const tests: TestSpec[] = [];
  let dropped = 0;
  for (const raw of block.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("//")) continue;
    const test = testFromLine(problem, line, arity);
    if (test === undefined) dropped += 1;
    else tests.push(test);
  }
  return { tests, dropped };
}

function inputKey(test: TestSpec): string {
  return test.kind === "call" ? `call:${test.input ?? JSON.stringify(test.args)}` : test.kind === "stdio" ? `stdio:${test.stdin}` : "";
}

export interface SynthesisContext {
  readonly problem: InputProblem;
  readonly settings: InputSettings;
  readonly model: LanguageModel | undefined;
  /** The model name a request picked. */
  readonly modelName: string | undefined;
  readonly prompts: Prompts;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export interface SynthesizedInputs {
  readonly tests: TestSpec[];
  readonly fromModel: number;
  readonly fromMutations: number;
  readonly fromSignature: number;
  readonly dropped: number;
  readonly usage: TokenUsage;
}

/** The inputs the model writes, parsed; a failing model leaves the mutations to do the work. */
async function modelInputs(context: SynthesisContext, model: LanguageModel, example: readonly PyValue[] | undefined, arity: number | undefined) {
  const { problem, settings } = context;
  const prompt = context.prompts.synthesizeInputs.render({
    language: problem.language,
    problem: problem.prompt.trim(),
    entry_point_instruction: entryPointInstruction({ entry_point: problem.entryPoint, tests: problem.tests }),
    tests: problem.tests.map((test) => testText(test, problem.entryPoint, problem.language)).join("\n"),
    count: String(Math.min(settings.max, 12)),
    format: INPUT_LANGUAGES[problem.language].format(example, isCallProblem(problem)),
  });
  try {
    const result = await model.generate({ messages: [{ role: "user", content: prompt }], n: 1, temperature: 0.7, maxTokens: 1_024, model: context.modelName, signal: context.signal });
    return { ...parseModelInputs(result.completions[0]?.text ?? "", problem, arity), usage: result.usage };
  } catch (error) {
    if (error instanceof AbortedError || context.signal.aborted) throw error;
    context.logger.warn("input synthesis by the model failed; mutations only", { error: String(error) });
    return { tests: [], dropped: 0, usage: usageOfFailure(error) };
  }
}

export async function synthesizeInputs(context: SynthesisContext): Promise<SynthesizedInputs> {
  const { problem, settings } = context;
  const publicArguments = problem.tests.map(argumentsOf).filter((args): args is PyValue[] => args !== undefined);
  const seen = new Set(problem.tests.map(inputKey));
  const chosen: TestSpec[] = [];
  const take = (test: TestSpec): boolean => {
    const key = inputKey(test);
    if (seen.has(key) || chosen.length >= settings.max) return false;
    seen.add(key);
    chosen.push(test);
    return true;
  };
  let usage = NO_USAGE;
  let fromModel = 0;
  let dropped = 0;
  if (settings.llm && context.model !== undefined && settings.max > 0) {
    const written = await modelInputs(context, context.model, publicArguments[0], publicArguments[0]?.length);
    usage = addUsage(usage, written.usage);
    dropped = written.dropped;
    fromModel = written.tests.filter(take).length;
  }
  let fromMutations = 0;
  if (settings.mutations && publicArguments.length > 0) {
    for (const args of mutateArguments(publicArguments, settings.max)) {
      const test = INPUT_LANGUAGES[problem.language].callTest(args);
      if (test !== undefined && take(test)) fromMutations += 1;
    }
  }
  let fromSignature = 0;
  if (settings.signature && publicArguments.length === 0 && isCallProblem(problem)) {
    for (const args of signatureInputs(problem.prompt, problem.entryPoint as string, settings.max - chosen.length)) {
      const test = INPUT_LANGUAGES[problem.language].callTest(args);
      if (test !== undefined && take(test)) fromSignature += 1;
    }
  }
  return { tests: chosen, fromModel, fromMutations, fromSignature, dropped, usage };
}
