/**
 * Sequential: N chains. Round 1 samples N programs (or runs the problem's
 * own program: repair); every chain whose program fails is revised from its
 * diagnostics in the next round. The first program that passes every
 * public test ends the run; after R rounds the best program is the answer.
 */
import { runRound } from "../round.ts";
import { answerOf, type Strategy } from "../strategy.ts";

export const sequential: Strategy = {
  name: "sequential",
  async *run(context) {
    for (let round = 1; round <= context.request.rounds; round++) {
      const solved = yield* runRound(context, round, { onPass: "end-round", execute: true });
      if (solved !== undefined) return { answer: answerOf(solved, "first_passing"), solved: true };
    }
    return { answer: undefined, solved: false };
  },
};
