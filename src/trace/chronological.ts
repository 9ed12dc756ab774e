/**
 * The budget engine of the chronological renderings (Concise, CodeExecutor,
 * SemCoder, Scratchpad): one line per event, in execution order, fitted to a
 * character budget.
 *
 * When the whole trace does not fit, the rendering keeps
 *  - the opening (at most a fifth of the room), so the model sees the input
 *    and how the run starts;
 *  - the steps nearest the failure, whole, as many as fit;
 *  - between them one fold line: how many steps were left out, which loop
 *    iterations they were ("iterations 3–9,998 of the loop at line 4") and
 *    how the variables moved ("i went 3→9,997"), and one current-state line:
 *    every variable as it stood where the kept steps resume.
 * So a run of a million steps reads like a short one: a state, then the last
 * steps. Values are shortened at token boundaries, and only when the budget
 * requires it; nothing is ever cut mid-line without saying so.
 *
 * Cost: rendering stops as soon as the budget is spent; the summary of the
 * folded middle is one pass over the events, with no string building.
 */
import type { TraceEvent } from "../shared/schema/execution.ts";
import { feedbackLines, shorten, type RenderContext, type RenderOptions } from "./context.ts";

export interface LoopFold {
  readonly function: string;
  readonly line: number;
  /** Iteration numbers (visits of the loop's first line), counted from the start of the trace. */
  readonly first: number;
  readonly last: number;
  /** The count restarts after an unrecorded stretch: the numbers are relative. */
  readonly afterGap: boolean;
}

export interface VariableFold {
  readonly name: string;
  readonly first: string;
  readonly last: string;
}

export interface CallFold {
  readonly function: string;
  readonly calls: number;
  readonly deepest: number;
}

export interface FoldSummary {
  /** Line steps left out that were recorded. */
  readonly steps: number;
  /** Calls inside the fold, per function (recursion shows up here). */
  readonly calls: readonly CallFold[];
  /** The raw trace's own unrecorded stretch lies inside the fold. */
  readonly unrecorded: boolean;
  /** Events in that stretch, when known. */
  readonly unrecordedEvents: number | null;
  readonly loops: readonly LoopFold[];
  readonly variables: readonly VariableFold[];
}

export interface ChronologicalStyle {
  readonly name: string;
  /** One line for one event, or undefined to leave it out. */
  event(event: TraceEvent, index: number, context: RenderContext): string | undefined;
  folded(summary: FoldSummary, context: RenderContext): string;
  state(locals: Readonly<Record<string, string>>, context: RenderContext): string;
  unrecorded(events: number | null, context: RenderContext): string;
}

const VALUE_LIMITS = [80, 40, 20, 12] as const;

export function count(value: number): string {
  return value.toLocaleString("en-US");
}

function size(lines: readonly string[]): number {
  let total = 0;
  for (const line of lines) total += line.length + 1;
  return Math.max(0, total - 1);
}

/**
 * Consecutive events that read the same (an exception passing up through a
 * thousand recursive frames) become one line with a count.
 */
class Lines {
  readonly lines: string[] = [];
  used = 0;
  private lastKey: string | undefined;
  private lastBase = "";
  private repeats = 1;

  /** Adds `text` unless it exceeds `room`; false when it did not fit. */
  add(text: string, room: number): boolean {
    const key = text.trimStart();
    if (key === this.lastKey) {
      const updated = `${this.lastBase} ×${this.repeats + 1}`;
      const previous = this.lines[this.lines.length - 1] as string;
      const cost = updated.length - previous.length;
      if (this.used + cost > room) return false;
      this.repeats += 1;
      this.lines[this.lines.length - 1] = updated;
      this.used += cost;
      return true;
    }
    const cost = text.length + (this.lines.length > 0 ? 1 : 0);
    if (this.used + cost > room) return false;
    this.lines.push(text);
    this.used += cost;
    this.lastKey = key;
    this.lastBase = text;
    this.repeats = 1;
    return true;
  }
}

/** Renders events [start, end) forward; stops (returning the index reached) once `room` is spent. */
function renderForward(
  style: ChronologicalStyle,
  context: RenderContext,
  start: number,
  end: number,
  room: number,
): { lines: string[]; end: number; complete: boolean } {
  const kept = new Lines();
  for (let index = start; index < end; index++) {
    if (index === context.gapIndex && index > start) {
      if (!kept.add(style.unrecorded(context.trace?.gap?.events ?? null, context), room)) return { lines: kept.lines, end: index, complete: false };
    }
    const event = context.events[index];
    const text = event === undefined ? undefined : style.event(event, index, context);
    if (text !== undefined && !kept.add(text, room)) return { lines: kept.lines, end: index, complete: false };
  }
  return { lines: kept.lines, end, complete: true };
}

/** Renders events backward from `end`; stops once `room` is spent. Returns the first index kept. */
function renderBackward(
  style: ChronologicalStyle,
  context: RenderContext,
  end: number,
  floor: number,
  room: number,
): { lines: string[]; start: number } {
  // Built from the end: lines are collected reversed, merged the same way.
  const kept = new Lines();
  let index = end - 1;
  for (; index >= floor; index--) {
    const event = context.events[index];
    const text = event === undefined ? undefined : style.event(event, index, context);
    if (text !== undefined && !kept.add(text, room)) break;
    if (index === context.gapIndex && index > floor && !kept.add(style.unrecorded(context.trace?.gap?.events ?? null, context), room)) {
      break;
    }
  }
  return { lines: kept.lines.reverse(), start: index + 1 };
}

/** How far into the folded range variables are looked for, from each end. */
const VARIABLE_WINDOW = 4_000;

interface LoopCount {
  function: string;
  line: number;
  before: number;
  inside: number;
  afterGap: boolean;
}

/**
 * One pass over events [0, end): the loop iterations (back-edges: a line at
 * or above the previous line in the same frame) and calls inside [start,
 * end), and the line steps there.
 */
function countLoopsAndCalls(context: RenderContext, start: number, end: number) {
  const events = context.events;
  const lastLineAtDepth: number[] = [];
  const loops = new Map<number, LoopCount>();
  const calls = new Map<string, { calls: number; deepest: number }>();
  let steps = 0;
  // The back-edges of one loop come in a row: remember the last one's entry.
  let lastKey = -1;
  let lastLoop: LoopCount | undefined;
  for (let index = 0; index < end; index++) {
    const event = events[index] as TraceEvent;
    if (index === context.gapIndex) {
      // Across the unrecorded stretch iteration counts restart.
      lastLineAtDepth.length = 0;
      for (const loop of loops.values()) loop.afterGap = true;
    }
    if (event.event === "call") {
      lastLineAtDepth[event.depth] = -1;
      if (index >= start) countCall(calls, event);
      continue;
    }
    if (event.event !== "line") continue;
    const previous = lastLineAtDepth[event.depth];
    lastLineAtDepth[event.depth] = event.line;
    if (index >= start) steps += 1;
    if (previous === undefined || previous < 0 || event.line > previous) continue;
    const key = event.depth * 1_000_003 + event.line;
    let loop = key === lastKey ? lastLoop : loops.get(key);
    if (loop === undefined) {
      loop = { function: event.function, line: event.line, before: 0, inside: 0, afterGap: false };
      loops.set(key, loop);
    }
    lastKey = key;
    lastLoop = loop;
    if (index >= start) loop.inside += 1;
    else if (!loop.afterGap) loop.before += 1;
  }
  return { loops, calls, steps };
}

function countCall(calls: Map<string, { calls: number; deepest: number }>, event: TraceEvent): void {
  const entry = calls.get(event.function);
  if (entry === undefined) calls.set(event.function, { calls: 1, deepest: event.depth });
  else {
    entry.calls += 1;
    if (event.depth > entry.deepest) entry.deepest = event.depth;
  }
}

/**
 * How the variables moved in [start, end), read from the two ends of the
 * range: their first values near its start, their last near its end; the
 * change counts (used only to pick which to show) from the start window.
 */
function variableMoves(context: RenderContext, start: number, end: number): Map<string, { first: string; last: string; changes: number }> {
  const events = context.events;
  const variables = new Map<string, { first: string; last: string; changes: number }>();
  const forwardEnd = Math.min(end, start + VARIABLE_WINDOW);
  for (let index = start; index < forwardEnd; index++) {
    const event = events[index] as TraceEvent;
    if (event.event !== "line" || event.changed === undefined || event.changed.length === 0 || event.locals === undefined) continue;
    for (const name of event.changed) {
      const value = event.locals[name];
      if (value === undefined) continue;
      const entry = variables.get(name);
      if (entry === undefined) variables.set(name, { first: value, last: value, changes: 1 });
      else {
        entry.last = value;
        entry.changes += 1;
      }
    }
  }
  const wanted = new Set(variables.keys());
  for (let index = end - 1; index >= Math.max(forwardEnd, end - VARIABLE_WINDOW) && wanted.size > 0; index--) {
    const event = events[index] as TraceEvent;
    if (event.event !== "line" || event.changed === undefined || event.locals === undefined) continue;
    for (const name of event.changed) {
      if (!wanted.has(name)) continue;
      const value = event.locals[name];
      const entry = variables.get(name);
      if (value !== undefined && entry !== undefined) entry.last = value;
      wanted.delete(name);
    }
  }
  return variables;
}

/** What a folded range [start, end) did: its two busiest loops, four most changed variables, two most called functions. */
export function summarize(context: RenderContext, start: number, end: number): FoldSummary {
  const { loops, calls, steps } = countLoopsAndCalls(context, start, end);
  const gapIndex = context.gapIndex;
  const unrecorded = gapIndex !== undefined && gapIndex > start && gapIndex < end;
  const loopFolds = [...loops.values()]
    .filter((loop) => loop.inside > 0)
    .sort((left, right) => right.inside - left.inside)
    .slice(0, 2)
    .map((loop) => ({
      function: loop.function,
      line: loop.line,
      // Iteration n starts with the (n-1)th jump back to the loop's first line.
      first: loop.before + 2,
      last: loop.before + loop.inside + 1,
      afterGap: loop.afterGap,
    }));
  const variableFolds = [...variableMoves(context, start, end).entries()]
    .sort((left, right) => right[1].changes - left[1].changes)
    .slice(0, 4)
    .map(([name, entry]) => ({ name, first: entry.first, last: entry.last }));
  const callFolds = [...calls.entries()]
    .sort((left, right) => right[1].calls - left[1].calls)
    .slice(0, 2)
    .map(([name, entry]) => ({ function: name, calls: entry.calls, deepest: entry.deepest }));
  return { steps, calls: callFolds, unrecorded, unrecordedEvents: unrecorded ? (context.trace?.gap?.events ?? null) : null, loops: loopFolds, variables: variableFolds };
}

/** The variables as they stood just before event `index` (its frame's latest state). */
export function stateBefore(context: RenderContext, index: number): Readonly<Record<string, string>> {
  const events = context.events;
  const target = events[index];
  for (let cursor = index - 1; cursor >= 0 && cursor >= index - 5_000; cursor--) {
    const event = events[cursor] as TraceEvent;
    if (event.locals === undefined) continue;
    if (target === undefined || (event.depth === target.depth && event.function === target.function)) return event.locals;
  }
  return {};
}

function attempt(style: ChronologicalStyle, context: RenderContext, budget: number): string[] {
  const fixed = [...feedbackLines(context), `Trace (${style.name}):`];
  const room = budget - size(fixed) - 1;
  const events = context.events;
  if (events.length === 0) return [...fixed.slice(0, -1), "(no trace was recorded for this test)"];
  if (room <= 0) return fixed;
  const whole = renderForward(style, context, 0, events.length, room);
  if (whole.complete) return [...fixed, ...whole.lines];

  // Windows: the opening, the fold of the middle, the state, the end.
  let openingRoom = Math.floor(room * 0.2);
  let windowRoom = room - openingRoom - Math.min(700, Math.floor(room * 0.3));
  for (let tries = 0; tries < 8; tries++) {
    const opening = renderForward(style, context, 0, events.length, Math.max(0, openingRoom));
    const window = renderBackward(style, context, events.length, opening.end, Math.max(0, windowRoom));
    const lines = [...fixed, ...opening.lines];
    if (window.start > opening.end) {
      lines.push(style.folded(summarize(context, opening.end, window.start), context));
      const state = stateBefore(context, window.start);
      if (Object.keys(state).length > 0) lines.push(style.state(state, context));
    }
    lines.push(...window.lines);
    if (size(lines) <= budget) return lines;
    openingRoom = Math.floor(openingRoom * 0.6);
    windowRoom = Math.floor(windowRoom * 0.7);
  }
  return fixed;
}

/**
 * Last resort: whole lines from the end are dropped (the feedback block and
 * the title first survive) and the drop is said; a single line longer than
 * the budget is cut at a word boundary with the cut marked.
 */
export function fitLines(lines: readonly string[], budget: number): string {
  const kept: string[] = [];
  let used = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const separator = kept.length > 0 ? 1 : 0;
    const after = lines.length - index - 1;
    // While lines remain after this one, keep room to say they were dropped.
    const reserve = after > 0 ? `… (${after} more lines not shown)`.length + 1 : 0;
    if (used + separator + line.length + reserve <= budget) {
      kept.push(line);
      used += separator + line.length;
      continue;
    }
    const room = budget - used - separator;
    if (kept.length === 0 || (after === 0 && room >= 12)) {
      kept.push(shorten(line, Math.max(1, room))); // the one line that must say something
      if (after > 0) {
        const marker = `… (${after} more line${after === 1 ? "" : "s"} not shown)`;
        if (budget - kept.join("\n").length - 1 >= marker.length) kept.push(marker);
      }
      break;
    }
    const dropped = lines.length - index;
    const marker = `… (${dropped} more line${dropped === 1 ? "" : "s"} not shown)`;
    if (room >= marker.length) kept.push(marker);
    break;
  }
  return kept.join("\n");
}

export function renderChronological(style: ChronologicalStyle, context: RenderContext, options: RenderOptions): string {
  let lines: string[] = [];
  for (const limit of VALUE_LIMITS) {
    context.valueLimit = limit;
    lines = attempt(style, context, options.budget);
    if (size(lines) <= options.budget) return lines.join("\n");
  }
  return fitLines(lines, options.budget);
}
