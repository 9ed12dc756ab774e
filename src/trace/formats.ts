/**
 * The chronological trace formats. Each says how one event, one fold, one
 * state and one unrecorded stretch read; chronological.ts fits them into
 * the budget.
 */
import type { TraceEvent } from "../shared/schema/execution.ts";
import { count, type ChronologicalStyle, type FoldSummary } from "./chronological.ts";
import { argumentList, shorten, sourceLine, type RenderContext } from "./context.ts";

const MAX_INDENT = 6;

/** Nested calls are indented, up to a point: deep recursion must not spend the budget on spaces. */
function indent(event: TraceEvent): string {
  return "  ".repeat(Math.min(MAX_INDENT, Math.max(0, event.depth - 1)));
}

function changes(event: TraceEvent, context: RenderContext, separator = ", ", assign = " = "): string {
  const locals = event.locals ?? {};
  return (event.changed ?? [])
    .filter((name) => locals[name] !== undefined)
    .map((name) => `${name}${assign}${shorten(locals[name] as string, context.valueLimit)}`)
    .join(separator);
}

function allState(locals: Readonly<Record<string, string>>, context: RenderContext, separator: string, assign: string): string {
  return Object.entries(locals)
    .map(([name, value]) => `${name}${assign}${shorten(value, context.valueLimit)}`)
    .join(separator);
}

/** "29,985 steps: iterations 3–9,998 of the loop at line 4; i went 3→9,997, total went 0→5,552". */
function foldWords(summary: FoldSummary, context: RenderContext): string {
  const parts: string[] = [];
  let head = `${count(summary.steps)} steps`;
  if (summary.unrecorded) {
    head +=
      summary.unrecordedEvents === null
        ? " plus a stretch of the run that was not recorded"
        : ` plus ${count(summary.unrecordedEvents)} events that were not recorded`;
  }
  parts.push(head);
  for (const call of summary.calls) {
    parts.push(`${count(call.calls)} call${call.calls === 1 ? "" : "s"} of ${call.function}${call.deepest > 2 ? ` (nested ${count(call.deepest)} deep)` : ""}`);
  }
  for (const loop of summary.loops) {
    const iterations = loop.last - loop.first + 1;
    if (loop.afterGap) {
      // Iteration numbers are lost in the unrecorded stretch: say how many.
      parts.push(`${count(iterations)} recorded iteration${iterations === 1 ? "" : "s"} of the loop at line ${loop.line}`);
    } else {
      const range = iterations === 1 ? `iteration ${count(loop.first)}` : `iterations ${count(loop.first)}–${count(loop.last)}`;
      parts.push(`${range} of the loop at line ${loop.line}`);
    }
  }
  const width = Math.min(24, context.valueLimit);
  const movement = summary.variables
    .map((variable) => [variable.name, shorten(variable.first, width), shorten(variable.last, width)] as const)
    .filter(([, first, last]) => first !== last) // a change hidden by shortening says nothing
    .map(([name, first, last]) => `${name} went ${first}→${last}`);
  return `${parts.join("; ")}${movement.length > 0 ? `; ${movement.join(", ")}` : ""}`;
}

function unrecordedWords(events: number | null): string {
  return events === null ? "the run went on here for steps that were not recorded" : `${count(events)} events here were not recorded`;
}

function isEntry(event: TraceEvent): boolean {
  return event.depth <= 1;
}

/** `[L3] n = 1 [/L3]`: only what changed on each line. */
export const conciseStyle: ChronologicalStyle = {
  name: "concise",
  event(event, _index, context) {
    const pad = indent(event);
    switch (event.event) {
      case "call":
        return isEntry(event)
          ? `[INPUT] ${event.function}(${argumentList(event, context)}) [/INPUT]`
          : `${pad}[CALL] ${event.function}(${argumentList(event, context)}) [/CALL]`;
      case "line":
        return `${pad}[L${event.line}] ${changes(event, context)}${event.changed?.length ? " " : ""}[/L${event.line}]`;
      case "return":
        return isEntry(event)
          ? `[OUTPUT] ${shorten(event.value ?? "", context.valueLimit)} [/OUTPUT]`
          : `${pad}[RETURN] ${event.function} → ${shorten(event.value ?? "", context.valueLimit)} [/RETURN]`;
      case "exception":
        return `${pad}[L${event.line}] raises ${shorten(event.value ?? "", context.valueLimit * 2)} [/L${event.line}]`;
    }
  },
  folded: (summary, context) => `[FOLDED] ${foldWords(summary, context)} [/FOLDED]`,
  state: (locals, context) => `[STATE] ${allState(locals, context, ", ", " = ")} [/STATE]`,
  unrecorded: (events) => `[NOT RECORDED] ${unrecordedWords(events)} [/NOT RECORDED]`,
};

/** `<line> <3> <state> n : 1 <dictsep> s : 0 </state>`: every variable in scope on each line. */
export const codeExecutorStyle: ChronologicalStyle = {
  name: "codeexecutor",
  event(event, _index, context) {
    const state = allState(event.locals ?? {}, context, " <dictsep> ", " : ");
    switch (event.event) {
      case "call":
        return `<call> <${event.function}> <state> ${state} </state>`;
      case "line":
        return `<line> <${event.line}> <state> ${state} </state>`;
      case "return":
        return `<return> <${event.function}> ${shorten(event.value ?? "", context.valueLimit)} </return>`;
      case "exception":
        return `<line> <${event.line}> <exception> ${shorten(event.value ?? "", context.valueLimit * 2)} </exception>`;
    }
  },
  folded: (summary, context) => `<folded> ${foldWords(summary, context)} </folded>`,
  state: (locals, context) => `<state> ${allState(locals, context, " <dictsep> ", " : ")} </state>`,
  unrecorded: (events) => `<unrecorded> ${unrecordedWords(events)} </unrecorded>`,
};

function quote(name: string): string {
  return `\`${name}\``;
}

/** The state this event's frame had before it: the previous event of the same frame. */
function previousLocals(index: number, context: RenderContext): Readonly<Record<string, string>> {
  const events = context.events;
  const current = events[index];
  if (current === undefined) return {};
  for (let cursor = index - 1; cursor >= 0 && cursor >= index - 2_000; cursor--) {
    const event = events[cursor] as TraceEvent;
    if (event.depth === current.depth && event.function === current.function && event.locals !== undefined) {
      return event.event === "call" || event.event === "line" ? event.locals : {};
    }
    if (event.depth < current.depth) return {};
  }
  return {};
}

/** A natural-language account: "Line 3: `n` changes from 0 to 1." */
export const semcoderStyle: ChronologicalStyle = {
  name: "semcoder",
  event(event, index, context) {
    const pad = indent(event);
    switch (event.event) {
      case "call": {
        const args = Object.entries(event.locals ?? {})
          .map(([name, value]) => `${quote(name)} = ${shorten(value, context.valueLimit)}`)
          .join(", ");
        return `${pad}${quote(event.function)} is called${args === "" ? "" : ` with ${args}`}.`;
      }
      case "line": {
        const changed = event.changed ?? [];
        if (changed.length === 0) return `${pad}Line ${event.line}: no change.`;
        const before = previousLocals(index, context);
        const locals = event.locals ?? {};
        const phrases = changed.map((name) => {
          const now = shorten(locals[name] ?? "?", context.valueLimit);
          const then = before[name];
          return then === undefined
            ? `${quote(name)} is set to ${now}`
            : `${quote(name)} changes from ${shorten(then, context.valueLimit)} to ${now}`;
        });
        return `${pad}Line ${event.line}: ${phrases.join("; ")}.`;
      }
      case "return":
        return `${pad}${quote(event.function)} returns ${shorten(event.value ?? "", context.valueLimit)}.`;
      case "exception":
        return `${pad}Line ${event.line} raises ${shorten(event.value ?? "", context.valueLimit * 2)}.`;
    }
  },
  folded: (summary, context) => `Then ${foldWords(summary, context)} are folded.`,
  state: (locals, context) =>
    `At that point ${Object.entries(locals)
      .map(([name, value]) => `${quote(name)} is ${shorten(value, context.valueLimit)}`)
      .join(", ")}.`,
  unrecorded: (events) => (events === null ? "The run then goes on for steps that were not recorded." : `The run then goes on for ${count(events)} events that were not recorded.`),
};

function stateDict(locals: Readonly<Record<string, string>>, context: RenderContext): string {
  return `{${Object.entries(locals)
    .map(([name, value]) => `"${name}": ${shorten(value, context.valueLimit)}`)
    .join(", ")}}`;
}

/** The executed lines in order, each with `# [STATE] {...} [/STATE]` (`//` in JavaScript). */
export const scratchpadStyle: ChronologicalStyle = {
  name: "scratchpad",
  event(event, _index, context) {
    switch (event.event) {
      case "call":
        return isEntry(event)
          ? `[INPUT] ${event.function}(${argumentList(event, context)}) [/INPUT]`
          : `${indent(event)}${context.comment} [CALL] ${event.function}(${argumentList(event, context)})`;
      case "line":
        return `${sourceLine(context, event.line)}  ${context.comment} [STATE] ${stateDict(event.locals ?? {}, context)} [/STATE]`;
      case "return":
        return isEntry(event)
          ? `[OUTPUT] ${shorten(event.value ?? "", context.valueLimit)} [/OUTPUT]`
          : `${indent(event)}${context.comment} [RETURN] ${event.function} → ${shorten(event.value ?? "", context.valueLimit)}`;
      case "exception":
        return `${sourceLine(context, event.line)}  ${context.comment} [EXCEPTION] ${shorten(event.value ?? "", context.valueLimit * 2)} [/EXCEPTION]`;
    }
  },
  folded: (summary, context) => `${context.comment} [FOLDED] ${foldWords(summary, context)} [/FOLDED]`,
  state: (locals, context) => `${context.comment} [STATE] ${stateDict(locals, context)} [/STATE]`,
  unrecorded: (events, context) => `${context.comment} [NOT RECORDED] ${unrecordedWords(events)} [/NOT RECORDED]`,
};
