/**
 * One raw trace, rendered for a model in the format a request asks for.
 * Every renderer is a pure function (code, test, report, options) → text,
 * always within `options.budget` characters.
 */
import type { Language, TestReport, TestSpec, TraceFormat } from "../shared/schema/execution.ts";
import { fitLines, renderChronological, type ChronologicalStyle } from "./chronological.ts";
import { feedbackLines, makeContext } from "./context.ts";
import { codeExecutorStyle, conciseStyle, scratchpadStyle, semcoderStyle } from "./formats.ts";
import { renderNext } from "./next.ts";

export interface RenderingOptions {
  readonly budget: number;
  /** The function the tests call; names the input (`mean([1, 2])`). */
  readonly entryPoint?: string | undefined;
  /** The program's language (default Python): how tests and values are written, the comment marker. */
  readonly language?: Language | undefined;
}

export type Renderer = (code: string, test: TestSpec | undefined, report: TestReport, options: RenderingOptions) => string;

function chronological(style: ChronologicalStyle): Renderer {
  return (code, test, report, options) => renderChronological(style, makeContext(code, test, report, options.entryPoint, options.language), options);
}

export const concise: Renderer = chronological(conciseStyle);
export const codeexecutor: Renderer = chronological(codeExecutorStyle);
export const semcoder: Renderer = chronological(semcoderStyle);
export const scratchpad: Renderer = chronological(scratchpadStyle);
export const next: Renderer = (code, test, report, options) => renderNext(makeContext(code, test, report, options.entryPoint, options.language), options);
/** Test feedback without a trace: input, expected, actual, error. */
export const none: Renderer = (code, test, report, options) =>
  fitLines(feedbackLines(makeContext(code, test, report, options.entryPoint, options.language)), options.budget);

export const RENDERERS: Readonly<Record<TraceFormat, Renderer>> = { concise, codeexecutor, next, semcoder, scratchpad, none };

export function render(format: TraceFormat, code: string, test: TestSpec | undefined, report: TestReport, options: RenderingOptions): string {
  return RENDERERS[format](code, test, report, options);
}
