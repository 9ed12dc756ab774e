/**
 * `npm start`: read the configuration, start the server (compose.ts) and
 * listen, then show the sandbox doing its job once on a small buggy program.
 */
import { serve } from "@hono/node-server";
import { loadConfig, type Config } from "../shared/config.ts";
import { ConfigError } from "../shared/errors.ts";
import { consoleLogger, createLogger, type Logger } from "../shared/logger.ts";
import { composeServer, type ComposedServer } from "./compose.ts";
import { selfCheck } from "./self-check.ts";

function listen(config: Config, composed: ComposedServer, logger: Logger): void {
  const { app, executor } = composed;
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (address) => {
    const url = `http://${config.host}:${address.port}`;
    logger.info(`listening on ${url}; the playground is at ${url}/`);
    void selfCheck(executor, logger, url);
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    logger.error(
      error.code === "EADDRINUSE" ? `${config.host}:${config.port} is already in use; set PORT (or HOST) to another address` : `the HTTP server failed: ${error.message}`,
    );
    void executor.close().then(() => process.exit(1));
  });
  // SIGTERM drains: no new connections or runs, the running ones get the grace period, then are cancelled.
  const shutdown = (signal: string): void => {
    logger.info(`${signal}: shutting down (running runs get ${config.shutdownGraceMs} ms to finish)`);
    server.close();
    void composed.close(config.shutdownGraceMs).then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logFormat);
  listen(config, await composeServer(config, logger), logger);
}

main().catch((error: unknown) => {
  // A bad setting is one line naming the variable, not a stack trace.
  const message = error instanceof ConfigError ? `configuration: ${error.message}` : `start-up failed: ${error instanceof Error ? error.message : String(error)}`;
  consoleLogger.error(message);
  process.exit(1);
});
