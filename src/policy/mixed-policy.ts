/**
 * `policy: "mixed"`: each round the edit search first, since it is cheap
 * (no tokens, a few milliseconds a program), then the model's revisions for
 * the chains the edits did not fix. It is a policy in stages: the round
 * runner runs each stage's programs before the next stage proposes, and a
 * stage whose program passes ends the round (sequential) or its chain
 * (hybrid) before the model is asked at all.
 */
import type { Policy, ProposeRequest, ProposeResult } from "./policy.ts";

export class MixedPolicy implements Policy {
  readonly name = "mixed";
  readonly description: string;
  readonly stages: readonly Policy[];
  /** The model reads the edits' traces in their feedback. */
  readonly readsTraces = true;
  /** The edits run with limits from the given program's times; the model's programs keep the request's (run-context.ts). */
  readonly timesFromGiven = true;

  constructor(editSearch: Policy, model: Policy) {
    this.stages = [editSearch, model];
    this.description = `${editSearch.description}, then ${model.description}`;
  }

  /**
   * Called directly (not through the round runner), the edit search's
   * proposals: the model's stage needs the edits' results, which only
   * running them gives.
   */
  propose(request: ProposeRequest): Promise<ProposeResult> {
    return (this.stages[0] as Policy).propose(request);
  }
}
