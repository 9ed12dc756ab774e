/**
 * Two servers sharing runs through one real PostgreSQL (a throwaway
 * cluster): 200 runs spread over both, every client cutting its stream
 * halfway and resuming on the other server. No event lost, none twice,
 * order kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { SKIP_POSTGRES, startPostgres, type Postgres } from "./support/postgres.ts";
import { startPool } from "./support/sandbox.ts";
import { resumeAcross, startSharedServers, type SharedServer } from "./support/shared-runs.ts";

describe.skipIf(SKIP_POSTGRES)("two servers on one PostgreSQL", () => {
  let postgres: Postgres;
  let pool: PythonPool;
  let servers: [SharedServer, SharedServer];

  beforeAll(async () => {
    [postgres, pool] = await Promise.all([startPostgres(), startPool({ size: 2 })]);
    servers = await startSharedServers(pool, await postgres.database("shared_runs"));
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await pool?.close();
    postgres?.stop();
  });

  it("200 runs, each stream resumed on the other server halfway: 0 lost, 0 duplicated, in order, every one ended", async () => {
    const outcome = await resumeAcross(servers, 200, 16);
    expect(outcome).toMatchObject({ runs: 200, lost: 0, duplicated: 0, outOfOrder: 0, unterminated: 0 });
    // Most were still going when the client moved: the other server followed them live through the store.
    expect(outcome.resumedLive).toBeGreaterThan(100);
  }, 240_000);

  it("lists and serves every run from either server", async () => {
    const [a, b] = servers;
    const fromA = (await (await fetch(`${a.url}/v1/runs?limit=5`)).json()) as { runs: { run_id: string }[] };
    const fromB = (await (await fetch(`${b.url}/v1/runs?limit=5`)).json()) as { runs: { run_id: string }[] };
    expect(fromB.runs.map((run) => run.run_id)).toEqual(fromA.runs.map((run) => run.run_id));
    const one = fromA.runs[0]?.run_id as string;
    expect((await fetch(`${b.url}/v1/runs/${one}/preferences`)).status).toBe(200);
  });
});
