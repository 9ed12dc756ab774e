/** A program or a diff as numbered lines, with the edited line and fault localisation's suspicious lines marked. */
import { h } from "./dom.ts";
import type { DiffLine } from "./diff.ts";

export interface LineMarks {
  /** Suspiciousness (0..1) by line of the program the diff starts from. */
  readonly suspicious?: ReadonlyMap<number, number> | undefined;
  /** The line (of the program the diff starts from) an edit changed. */
  readonly edited?: number | undefined;
}

const SIGN = { same: " ", del: "-", ins: "+" } as const;

function lineRow(line: DiffLine, marks: LineMarks): HTMLElement {
  const row = h(
    "div",
    { class: `line ${line.kind}` },
    h("span", { class: "ln", "aria-hidden": "true" }, line.oldLine === undefined ? "" : String(line.oldLine)),
    h("span", { class: "ln", "aria-hidden": "true" }, line.newLine === undefined ? "" : String(line.newLine)),
    h("span", { class: "sign", "aria-hidden": "true" }, SIGN[line.kind]),
    h("span", { class: "text" }, line.text),
  );
  const suspiciousness = line.oldLine === undefined ? undefined : marks.suspicious?.get(line.oldLine);
  if (suspiciousness !== undefined && suspiciousness > 0) {
    row.classList.add("suspicious");
    row.style.setProperty("--suspiciousness", suspiciousness.toFixed(2));
    row.title = `suspiciousness ${suspiciousness.toFixed(2)}`;
  }
  if (line.kind === "del" && line.oldLine === marks.edited) row.classList.add("edited");
  return row;
}

/** Lines skipped between two shown ones (a compact diff) are marked by one gap row. */
function skipped(previous: DiffLine | undefined, line: DiffLine): boolean {
  if (previous === undefined) return (line.oldLine ?? line.newLine ?? 1) > 1;
  const gap = (before: number | undefined, after: number | undefined): boolean => before !== undefined && after !== undefined && after > before + 1;
  return gap(previous.oldLine, line.oldLine) || gap(previous.newLine, line.newLine);
}

export function codeView(lines: readonly DiffLine[], marks: LineMarks = {}, label = "code"): HTMLElement {
  const view = h("pre", { class: "code", "aria-label": label });
  let previous: DiffLine | undefined;
  for (const line of lines) {
    if (skipped(previous, line)) view.append(h("div", { class: "line gap", "aria-hidden": "true" }, "⋯"));
    view.append(lineRow(line, marks));
    previous = line;
  }
  return view;
}
