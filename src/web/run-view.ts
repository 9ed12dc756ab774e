/**
 * One run on the page, drawn from its events as they arrive (live or
 * replayed from the run store: the same events, the same drawing). Each
 * round is a section; each candidate a card with where it came from, its
 * diff against the program it was made from, its tests and the feedback
 * (the trace rendering) the next proposal reads.
 */
import type { RunEvent } from "../shared/schema/events.ts";
import { toolCallText } from "../shared/tool-text.ts";
import { preferencesUrl } from "./api.ts";
import { codeView } from "./code-view.ts";
import { compactDiff, lineDiff, plainLines } from "./diff.ts";
import { h } from "./dom.ts";

type EventOf<T extends RunEvent["type"]> = Extract<RunEvent, { type: T }>;

interface RoundView {
  readonly section: HTMLElement;
  readonly candidates: HTMLElement;
  readonly footer: HTMLElement;
  /** This round's fault localisation: suspiciousness by line of the programs it edits. */
  suspicious: Map<number, number>;
  proposed: number;
  executed: number;
  /** Strategy agent: each agent's tool calls, in order. */
  readonly agents: Map<number, HTMLElement>;
}

export class RunView {
  private readonly codes = new Map<string, string>();
  private readonly cards = new Map<string, HTMLElement>();
  private readonly rounds = new Map<number, RoundView>();
  private best: { passed: number; total: number } | undefined;
  private current = 0;
  /** The last event drawn: where a resumed stream starts. */
  lastEventId = 0;
  runId: string | undefined;
  ended = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly status: HTMLElement,
  ) {
    root.replaceChildren();
    status.textContent = "";
  }

  apply(event: RunEvent): void {
    if (event.id <= this.lastEventId) return; // already drawn (a resumed stream may repeat)
    this.lastEventId = event.id;
    this.draw(event);
    this.root.dataset["lastEventId"] = String(event.id);
  }

  /** The run could not go on (the connection, the server): said where its status is. */
  interrupted(message: string): void {
    this.root.dataset["state"] = "interrupted";
    this.status.textContent = message;
  }

  private draw(event: RunEvent): void {
    switch (event.type) {
      case "run.started":
        return this.started(event);
      case "round.started":
        return this.roundStarted(event);
      case "policy.localized":
        return this.localized(event);
      case "candidate.generated":
        return this.generated(event);
      case "candidate.executed":
        return this.executed(event);
      case "inputs.synthesized":
        return this.note(`${event.total} inputs synthesized to compare candidates on`);
      case "judge.completed":
        return this.note(`selection by ${event.method}: ${event.ranking.length} candidates ranked`);
      case "tool.called":
        return this.toolCalled(event);
      case "tool.completed":
        return this.toolCompleted(event);
      case "round.completed":
        return this.roundCompleted(event);
      case "run.completed":
        return this.completed(event);
      case "run.failed":
        return this.failed(event);
    }
  }

  private started(event: EventOf<"run.started">): void {
    this.runId = event.run_id;
    this.root.dataset["runId"] = event.run_id;
    this.root.dataset["state"] = "running";
    this.root.append(
      h(
        "header",
        { class: "run-header" },
        h("h2", {}, `Run ${event.run_id}`),
        h("p", {}, `${event.policy} policy · ${event.strategy} · n ${event.n} · ${event.rounds} rounds · trace ${event.trace.format}`),
      ),
    );
    this.progress();
  }

  private roundStarted(event: EventOf<"round.started">): void {
    this.current = event.round;
    const candidates = h("div", { class: "candidates" });
    const footer = h("p", { class: "round-footer" });
    const section = h("section", { class: "round", "data-round": String(event.round), "aria-label": `Round ${event.round}` }, h("h3", {}, `Round ${event.round} · ${event.mode}`), candidates, footer);
    this.rounds.set(event.round, { section, candidates, footer, suspicious: new Map(), proposed: 0, executed: 0, agents: new Map() });
    this.root.append(section);
    this.progress();
  }

  private localized(event: EventOf<"policy.localized">): void {
    const round = this.rounds.get(event.round);
    if (round === undefined) return;
    round.suspicious = new Map(event.lines.map((line) => [line.line, line.suspiciousness]));
    const top = event.lines.slice(0, 5).map((line) => `line ${line.line} (${line.suspiciousness.toFixed(2)})`);
    round.candidates.before(h("p", { class: "localized" }, `Most suspicious: ${top.join(", ")}`));
  }

  /** An agent's list of tool calls in the round going on (an agent run has one round), made on its first call. */
  private agentCalls(agent: number): HTMLElement | undefined {
    const round = this.rounds.get(this.current);
    if (round === undefined) return undefined;
    let list = round.agents.get(agent);
    if (list === undefined) {
      list = h("ol", { class: "tool-calls", "data-agent": String(agent), "aria-label": `Agent ${agent} tool calls` });
      round.agents.set(agent, list);
      round.candidates.before(h("section", { class: "agent" }, h("h4", {}, `Agent ${agent}`), list));
    }
    return list;
  }

  private toolCalled(event: EventOf<"tool.called">): void {
    this.agentCalls(event.agent)?.append(
      h("li", { class: "tool-call", "data-call": String(event.call), "data-status": "running" }, h("code", {}, toolCallText(event.tool, event.arguments)), h("span", { class: "result" }, "running…")),
    );
  }

  private toolCompleted(event: EventOf<"tool.completed">): void {
    const item = this.agentCalls(event.agent)?.querySelector<HTMLElement>(`.tool-call[data-call="${event.call}"]`);
    if (item === undefined || item === null) return;
    item.dataset["status"] = event.status;
    const result = item.querySelector(".result");
    if (result !== null) result.textContent = `${event.status} · ${Math.round(event.duration_ms)} ms`;
    item.append(h("details", { class: "tool-result" }, h("summary", {}, "what the model was told"), h("pre", {}, event.result)));
  }

  private generated(event: EventOf<"candidate.generated">): void {
    const round = this.rounds.get(event.round);
    if (round === undefined) return;
    round.proposed += 1;
    if (event.code !== null) this.codes.set(event.candidate, event.code);
    const parentCode = event.parent === null ? undefined : this.codes.get(event.parent);
    // One line per candidate; its program (or its diff) opens on demand, and by itself when it passes.
    const body =
      event.code === null
        ? h("p", { class: "no-code" }, event.reasoning === "" ? "no program in the reply" : event.reasoning.slice(0, 500))
        : parentCode === undefined
          ? h("details", { class: "source", ...(event.source === "given" ? { open: "" } : {}) }, h("summary", {}, "Program"), codeView(plainLines(event.code), { suspicious: round.suspicious }, `${event.candidate} code`))
          : h(
              "details",
              { class: "diff" },
              h("summary", { class: "diff-label" }, `diff against ${event.parent}`),
              codeView(compactDiff(lineDiff(parentCode, event.code)), { suspicious: round.suspicious, edited: event.edit?.line }, `${event.candidate} diff`),
            );
    const card = h(
      "article",
      { class: "candidate", "data-candidate": event.candidate, "data-status": "running", "aria-label": `Candidate ${event.candidate}` },
      h(
        "header",
        {},
        h("strong", {}, event.candidate),
        h("span", { class: `badge source-${event.source}` }, event.source),
        h("span", { class: "description" }, event.description),
        h("span", { class: "result" }, "running…"),
      ),
      body,
    );
    this.cards.set(event.candidate, card);
    round.candidates.append(card);
    this.progress();
  }

  private executed(event: EventOf<"candidate.executed">): void {
    const card = this.cards.get(event.candidate);
    const round = this.rounds.get(event.round);
    if (card === undefined || round === undefined) return;
    round.executed += 1;
    if (this.best === undefined || event.passed > this.best.passed) this.best = { passed: event.passed, total: event.total };
    card.dataset["status"] = event.status;
    const result = card.querySelector(".result");
    if (result !== null) result.textContent = `${event.status} · ${event.passed}/${event.total}`;
    card.querySelector("header")?.append(h("ol", { class: "tests", "aria-label": "tests" }, ...event.tests.map((test) => h("li", { class: `test ${test.status}`, title: `test ${test.index + 1}: ${test.status}` }, test.status))));
    if (event.status === "passed") card.querySelector("details")?.setAttribute("open", "");
    if (event.feedback !== undefined && event.feedback !== "") {
      card.append(h("details", { class: "feedback" }, h("summary", {}, "Feedback: the trace rendering a revision reads"), h("pre", {}, event.feedback)));
    }
    this.progress();
  }

  private roundCompleted(event: EventOf<"round.completed">): void {
    const round = this.rounds.get(event.round);
    if (round === undefined) return;
    const best = event.best === null ? "" : ` · best ${event.best.candidate} ${event.best.passed}/${event.best.total}`;
    round.footer.textContent = `${event.solved ? "solved" : "not solved"}${best}${event.edits_tried > 0 ? ` · ${event.edits_tried} edits tried` : ""}`;
    // Proposed after the round's answer was found: never run.
    for (const card of round.candidates.querySelectorAll<HTMLElement>('.candidate[data-status="running"]')) {
      card.dataset["status"] = "not_run";
      const result = card.querySelector(".result");
      if (result !== null) result.textContent = "not run (the round was over)";
    }
    round.section.dataset["solved"] = String(event.solved);
  }

  private completed(event: EventOf<"run.completed">): void {
    this.ended = true;
    this.root.dataset["state"] = event.status;
    const hidden = event.hidden === null ? "no hidden tests" : `hidden tests ${event.hidden.passed}/${event.hidden.total} passed`;
    const stopped = event.stopped === event.status ? "" : ` (stopped: ${event.stopped})`;
    this.status.textContent = `${event.status === "solved" ? "Solved" : "Unsolved"}${stopped} · ${hidden}`;
    const given = this.codes.get("r1given");
    const answer = h("section", { class: "answer", "aria-label": "Answer" }, h("h3", {}, event.solution === null ? "No program" : `Answer: ${event.solution.candidate} (${event.solution.passed}/${event.solution.total} public tests)`), h("p", { class: "hidden-result" }, hidden));
    if (event.solution !== null) {
      if (given !== undefined && given !== event.solution.code) answer.append(h("span", { class: "diff-label" }, "the fix, against the given program"), codeView(lineDiff(given, event.solution.code), {}, "fix"));
      else answer.append(codeView(plainLines(event.solution.code), {}, "answer"));
    }
    answer.append(this.downloadLink());
    // The answer under the run's header, above the rounds that led to it.
    this.root.querySelector(".run-header")?.after(answer);
  }

  private failed(event: EventOf<"run.failed">): void {
    this.ended = true;
    this.root.dataset["state"] = "failed";
    this.status.textContent = `Failed: ${event.error.code}: ${event.error.message}`;
    this.root.append(h("section", { class: "answer failed", role: "status" }, h("p", {}, `${event.error.code}: ${event.error.message}`), this.downloadLink()));
  }

  private downloadLink(): HTMLElement {
    const runId = this.runId ?? "run";
    return h("a", { class: "download", href: preferencesUrl(runId), download: `${runId}.dpo.jsonl` }, "Download DPO pairs");
  }

  private note(text: string): void {
    this.root.append(h("p", { class: "note" }, text));
  }

  private progress(): void {
    if (this.ended) return;
    const round = this.rounds.get(this.current);
    const best = this.best === undefined ? "-" : `${this.best.passed}/${this.best.total}`;
    this.status.textContent = round === undefined ? "Running…" : `Running · round ${this.current} · ${round.executed}/${round.proposed} run · best ${best}`;
  }
}
