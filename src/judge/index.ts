/** The judge stage: rankings of candidate programs. */
export { compareEta, etaStanding, type EtaStanding, type FailureClass } from "./eta.ts";
