/**
 * NExT: the program itself, each executed line annotated with the numbered
 * states it produced, `# (2) n=1; (5) n=2`. A line run more than three
 * times shows its first two states, `...`, and its last.
 *
 * Because states are grouped by line, a run of a million steps annotates no
 * more lines than a short one. When the budget is still too small, each line
 * keeps fewer states (first … last, then the last only), values get shorter,
 * and finally only the lines around the failure are shown.
 */
import type { TraceEvent } from "../shared/schema/execution.ts";
import { count, fitLines } from "./chronological.ts";
import { argumentList, feedbackLines, shorten, type RenderContext, type RenderOptions } from "./context.ts";

/** One annotated execution of a line: the event, and its step number (NaN when unknown). */
interface Note {
  readonly event: number;
  readonly ordinal: number;
}

interface LineNotes {
  readonly first: Note[];
  /** The latest execution, as plain numbers: one is written per event. */
  lastEvent: number;
  lastOrdinal: number;
  runs: number;
}

interface Collected {
  readonly notes: Map<number, LineNotes>;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly calls: number;
  /** The line executed last (where a run that fails usually goes wrong). */
  readonly lastLine: number | undefined;
}

/**
 * One pass over the events that keeps, per line, only what can be shown
 * (the first two executions, the last, a count): no text is built here, so
 * a million events cost a million cheap steps.
 */
function collect(context: RenderContext): Collected {
  const events = context.events;
  const trace = context.trace;
  // Indexed by line number: a million events, no hashing.
  const byLine: (LineNotes | undefined)[] = [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  let calls = 0;
  let ordinal = 0;
  let lastLine: number | undefined;
  // After an unrecorded stretch the step numbers continue only if the total is known.
  let tailLines = 0;
  if (context.gapIndex !== undefined) {
    for (let index = context.gapIndex; index < events.length; index++) if ((events[index] as TraceEvent).event === "line") tailLines++;
  }
  const exactTotal = trace?.total_steps ?? null;
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as TraceEvent;
    if (index === context.gapIndex) ordinal = exactTotal === null ? Number.NaN : exactTotal - tailLines;
    const kind = event.event;
    if (kind === "call") {
      if (event.depth <= 1) {
        calls += 1;
        if (inputs.length < 3) inputs.push(`${event.function}(${argumentList(event, context)})`);
      }
      continue;
    }
    if (kind === "line") {
      ordinal += 1;
      lastLine = event.line;
    } else if (kind === "exception") {
      lastLine = event.line;
    } else if (event.depth <= 1 && outputs.length < 3) {
      outputs.push(shorten(event.value ?? "", context.valueLimit));
    }
    let entry = byLine[event.line];
    if (entry === undefined) {
      entry = { first: [], lastEvent: -1, lastOrdinal: 0, runs: 0 };
      byLine[event.line] = entry;
    }
    entry.runs += 1;
    if (entry.first.length < 2) entry.first.push({ event: index, ordinal });
    else {
      entry.lastEvent = index;
      entry.lastOrdinal = ordinal;
    }
  }
  const notes = new Map<number, LineNotes>();
  byLine.forEach((entry, line) => {
    if (entry !== undefined) notes.set(line, entry);
  });
  return { notes, inputs, outputs, calls, lastLine };
}

/** The text of one note: what changed on the line, what it returned or raised. */
function noteText(note: Note, context: RenderContext): string {
  const event = context.events[note.event] as TraceEvent;
  const label = Number.isNaN(note.ordinal) ? "?" : String(note.ordinal);
  if (event.event === "return") return `(${label}) returns ${shorten(event.value ?? "", context.valueLimit)}`;
  if (event.event === "exception") return `(${label}) raises ${shorten(event.value ?? "", context.valueLimit * 2)}`;
  const locals = event.locals ?? {};
  const changed = (event.changed ?? []).filter((name) => locals[name] !== undefined);
  const text = changed.length === 0 ? "—" : changed.map((name) => `${name}=${shorten(locals[name] as string, context.valueLimit)}`).join(", ");
  return `(${label}) ${text}`;
}

function annotation(entry: LineNotes, detail: number, context: RenderContext): string {
  const show = (note: Note): string => noteText(note, context);
  const last = entry.lastEvent < 0 ? undefined : { event: entry.lastEvent, ordinal: entry.lastOrdinal };
  const all = last === undefined ? entry.first : [...entry.first, last];
  const runs = entry.runs > all.length ? ` [ran ${count(entry.runs)} times]` : "";
  if (detail === 0) {
    if (entry.runs <= 3) return all.map(show).join("; ");
    return `${entry.first.map(show).join("; ")}; ...; ${last === undefined ? "" : show(last)}${runs}`;
  }
  const final = all.at(-1) as Note;
  if (detail === 1 && all.length > 1) return `${show(all[0] as Note)}; ...; ${show(final)}${runs}`;
  return `${show(final)}${runs}`;
}

function attempt(context: RenderContext, collected: Collected, detail: number, window: number | undefined): string[] {
  const lines = [...feedbackLines(context), "Trace (next):"];
  if (collected.inputs.length > 0) {
    const more = collected.calls > collected.inputs.length ? ` (and ${count(collected.calls - collected.inputs.length)} more calls)` : "";
    lines.push(`${context.comment} [INPUT] ${collected.inputs.join("; ")}${more}`);
  }
  if (context.trace?.truncated) {
    const total = context.trace.total_steps;
    lines.push(
      total === null
        ? `${context.comment} [NOTE] a long run: its middle was not recorded, step numbers after it are unknown (?)`
        : `${context.comment} [NOTE] ${count(total)} steps in all; states from the middle of the run are not shown`,
    );
  }
  const source = context.sourceLines;
  let from = 1;
  let to = source.length;
  if (window !== undefined && collected.lastLine !== undefined) {
    from = Math.max(1, collected.lastLine - window);
    to = Math.min(source.length, collected.lastLine + window);
    if (from > 1) lines.push(`${context.comment} … lines 1–${from - 1} not shown`);
  }
  for (let number = from; number <= to; number++) {
    const code = (source[number - 1] ?? "").trimEnd();
    const entry = collected.notes.get(number);
    lines.push(entry === undefined ? code : `${code}  ${context.comment} ${annotation(entry, detail, context)}`);
  }
  if (to < source.length) lines.push(`${context.comment} … lines ${to + 1}–${source.length} not shown`);
  if (collected.outputs.length > 0) lines.push(`${context.comment} [OUTPUT] ${collected.outputs.join("; ")}`);
  while (lines.at(-1) === "") lines.pop();
  return lines;
}

export function renderNext(context: RenderContext, options: RenderOptions): string {
  if (context.events.length === 0) {
    return fitLines([...feedbackLines(context), "(no trace was recorded for this test)"], options.budget);
  }
  // Layouts from richest to leanest: fewer states per line, then shorter
  // values, then only the lines around where the run ended.
  const layouts: readonly [number, number, number | undefined][] = [
    [80, 0, undefined],
    [80, 1, undefined],
    [80, 2, undefined],
    [40, 2, undefined],
    [20, 2, undefined],
    [20, 2, 12],
    [20, 2, 6],
    [20, 2, 3],
    [20, 2, 1],
  ];
  let lines: string[] = [];
  let collected: Collected | undefined;
  for (const [limit, detail, window] of layouts) {
    if (collected === undefined || context.valueLimit !== limit) {
      context.valueLimit = limit;
      collected = collect(context); // one pass over the events per value length
    }
    lines = attempt(context, collected, detail, window);
    const text = lines.join("\n");
    if (text.length <= options.budget) return text;
  }
  return fitLines(lines, options.budget);
}
