/** Every strategy a request can name (the names are the API's: shared/schema/solve.ts). */
import type { StrategyName } from "../../shared/schema/solve.ts";
import type { Strategy } from "../strategy.ts";
import { agent } from "./agent.ts";
import { hybrid } from "./hybrid.ts";
import { parallel } from "./parallel.ts";
import { sequential } from "./sequential.ts";

export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = { sequential, parallel, hybrid, agent };
