/**
 * Hybrid: the sequential revision loop, except that each chain stops when
 * its program passes and the others go on; then a selection among every
 * chain's final program (its passing one, else its last).
 */
import { chooseAmong } from "../choose.ts";
import { runRound } from "../round.ts";
import type { Candidate } from "../run-context.ts";
import type { Strategy } from "../strategy.ts";

export const hybrid: Strategy = {
  name: "hybrid",
  async *run(context) {
    for (let round = 1; round <= context.request.rounds && context.active().length > 0; round++) {
      yield* runRound(context, round, { onPass: "end-chain", execute: true });
    }
    const finals = context.chains.map((chain) => chain.passing ?? chain.latest).filter((candidate): candidate is Candidate => candidate !== undefined);
    return yield* chooseAmong(context, finals);
  },
};
