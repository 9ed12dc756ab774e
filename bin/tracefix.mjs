#!/usr/bin/env node
// `npx tracefix …`: the command line (src/cli/tracefix.ts), run through tsx as `npm start` runs the server.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/tracefix.ts");
