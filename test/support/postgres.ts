/**
 * A throwaway PostgreSQL cluster for the run store's tests: Debian's
 * `initdb` and `pg_ctl`, run as an unprivileged user (the `postgres` user
 * when the tests run as root, else the caller), on a free loopback port,
 * deleted when stopped. No mock of the database.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";

function binDirectory(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((version) => existsSync(path.join(root, version, "bin", "initdb"))).sort((left, right) => Number(right) - Number(left));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin");
}

const BIN = binDirectory();
/** Skipped (with this reason) where PostgreSQL is not installed, except in CI, where .ci/run installs it. */
export const SKIP_POSTGRES = BIN === undefined && process.env["CI"] !== "true";
export const SKIP_POSTGRES_REASON = "no PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql): the PostgreSQL store's tests are skipped";

export interface Postgres {
  readonly url: string;
  /** A new empty database in the cluster: its URL. */
  database(name: string): Promise<string>;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  if (BIN === undefined) throw new Error(SKIP_POSTGRES_REASON);
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]): void => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(BIN, command), ...args]] : [path.join(BIN, command), args];
    execFileSync(file as string, argv as string[], { stdio: "pipe" });
  };
  const directory = mkdtempSync(path.join(tmpdir(), "tracefix-pg-"));
  if (asRoot) {
    const ids = execFileSync("id", ["-u", "postgres"]).toString().trim();
    chownSync(directory, Number(ids), Number(execFileSync("id", ["-g", "postgres"]).toString().trim()));
  }
  const data = path.join(directory, "data");
  const port = await freePort();
  run("initdb", ["-D", data, "-A", "trust", "-U", "tracefix", "--no-sync", "-E", "UTF8"]);
  run("pg_ctl", ["-D", data, "-l", path.join(directory, "log"), "-w", "-o", `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, "start"]);
  const url = `postgres://tracefix@127.0.0.1:${port}/postgres`;
  return {
    url,
    async database(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
