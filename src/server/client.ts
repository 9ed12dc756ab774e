/**
 * Who a request is for, as the sandbox's fair queue sees it: the
 * `X-Client-Id` header when a client names itself (a gateway can set it per
 * user), else the peer's address. It is a fairness key, not an identity:
 * a client that invents ids still meets the global queue bound.
 */
import type { IncomingMessage } from "node:http";

import type { Context } from "hono";

const CLIENT_ID = /^[A-Za-z0-9._:@-]{1,100}$/;

export function clientOf(context: Context): string {
  const named = context.req.header("x-client-id")?.trim();
  if (named !== undefined && CLIENT_ID.test(named)) return `id:${named}`;
  const address = (context.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress;
  return address === undefined ? "anonymous" : `address:${address}`;
}
