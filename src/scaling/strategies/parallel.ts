/**
 * Parallel: one round of N programs, collected without running them; the
 * selection then runs each once on the public tests and the synthesized
 * inputs and picks the answer.
 */
import { chooseAmong } from "../choose.ts";
import { runRound } from "../round.ts";
import type { Strategy } from "../strategy.ts";

export const parallel: Strategy = {
  name: "parallel",
  async *run(context) {
    yield* runRound(context, 1, { onPass: "none", execute: false });
    return yield* chooseAmong(context, context.candidates);
  },
};
