/**
 * The repair benchmarks' server: a Python pool (and a JavaScript one when
 * asked), the repair policy with the
 * hand order or the policy model (`--order hand|policy`, as the server
 * loads it), and the app on a loopback port, so that every problem goes
 * through /v1/solve over real HTTP.
 */
import { serve } from "@hono/node-server";

import { option } from "../../src/cli/options.ts";
import { HAND_ORDER, loadPolicyModel, RepairPolicy, type EditOrder } from "../../src/policy/index.ts";
import { JavaScriptPool, PythonPool, SandboxRouter, type Executor } from "../../src/sandbox/index.ts";
import { loadPrompts, RunManager } from "../../src/scaling/index.ts";
import { createApp } from "../../src/server/app.ts";
import { consoleLogger, silentLogger } from "../../src/shared/logger.ts";
import { MemoryRunStore } from "../../src/store/index.ts";

export interface RepairServer {
  readonly pool: PythonPool;
  readonly order: EditOrder;
  readonly url: string;
  /** Stops the sandboxes (the process exits after the benchmark). */
  close(): Promise<void>;
}

export async function startRepairServer(options: { readonly javascript?: boolean } = {}): Promise<RepairServer> {
  const orderName = option("order", "hand");
  if (orderName !== "hand" && orderName !== "policy") throw new Error(`--order is hand or policy, not ${orderName}`);
  const pool = await PythonPool.start({ logger: silentLogger });
  const executor: Executor = options.javascript === true ? new SandboxRouter([pool, await JavaScriptPool.start({ logger: silentLogger })]) : pool;
  const order = orderName === "policy" ? await loadPolicyModel({ logger: consoleLogger }) : HAND_ORDER;
  const runs = new RunManager({ policies: { repair: new RepairPolicy({ order }) }, executor, prompts: loadPrompts(), logger: silentLogger }, new MemoryRunStore());
  const app = createApp({ executor, logger: silentLogger, runs });
  const url = await new Promise<string>((resolve) => {
    serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
  });
  return { pool, order, url, close: () => executor.close() };
}
