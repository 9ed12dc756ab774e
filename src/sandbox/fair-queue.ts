/**
 * Work waiting for a sandbox worker, queued per client and handed out
 * fairly: the next job comes from the client with the fewest jobs running,
 * and among those from the one served longest ago (a client never served
 * comes first). So a client flooding the pool with endless loops holds at
 * most its share of the workers, and another client's short job starts at
 * the next free worker instead of behind the flood. Within one client, jobs
 * keep their order.
 */
export interface ClientState<Item> {
  readonly items: Item[];
  running: number;
  /** performance.now() of the last job started for this client; -Infinity when never. */
  lastStarted: number;
}

export class FairQueue<Item> {
  private readonly clients = new Map<string, ClientState<Item>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  private state(client: string): ClientState<Item> {
    let state = this.clients.get(client);
    if (state === undefined) {
      state = { items: [], running: 0, lastStarted: -Infinity };
      this.clients.set(client, state);
    }
    return state;
  }

  push(client: string, item: Item): void {
    this.state(client).items.push(item);
    this.count += 1;
  }

  /** Takes `item` out of the queue (an aborted or expired job); false when it already left. */
  remove(client: string, item: Item): boolean {
    const state = this.clients.get(client);
    const position = state?.items.indexOf(item) ?? -1;
    if (state === undefined || position < 0) return false;
    state.items.splice(position, 1);
    this.count -= 1;
    this.forgetIdle(client, state);
    return true;
  }

  /** Whether `left` is served before `right`. */
  private static before(left: ClientState<unknown>, right: ClientState<unknown>): boolean {
    if (left.running !== right.running) return left.running < right.running;
    return left.lastStarted < right.lastStarted;
  }

  /** The next job to start, counted as running for its client until `finished`. */
  shift(): { client: string; item: Item } | undefined {
    let chosen: [string, ClientState<Item>] | undefined;
    for (const entry of this.clients) {
      if (entry[1].items.length === 0) continue;
      if (chosen === undefined || FairQueue.before(entry[1], chosen[1])) chosen = entry;
    }
    if (chosen === undefined) return undefined;
    const [client, state] = chosen;
    const item = state.items.shift() as Item;
    this.count -= 1;
    state.running += 1;
    state.lastStarted = performance.now();
    return { client, item };
  }

  finished(client: string): void {
    const state = this.clients.get(client);
    if (state === undefined) return;
    state.running = Math.max(0, state.running - 1);
    this.forgetIdle(client, state);
  }

  /** Jobs of `client` queued or running. */
  load(client: string): number {
    const state = this.clients.get(client);
    return state === undefined ? 0 : state.items.length + state.running;
  }

  /** The first queued job of every client that would be served before a new job of `client`. */
  servedBefore(client: string): Item[] {
    const own = this.clients.get(client) ?? { items: [], running: 0, lastStarted: -Infinity };
    const ahead: Item[] = [...own.items];
    for (const [name, state] of this.clients) {
      const head = state.items[0];
      if (name !== client && head !== undefined && FairQueue.before(state, own)) ahead.push(head);
    }
    return ahead;
  }

  /** Every queued job, in no particular order (closing the pool rejects them). */
  drain(): Item[] {
    const items = [...this.clients.values()].flatMap((state) => state.items.splice(0));
    this.count = 0;
    return items;
  }

  private forgetIdle(client: string, state: ClientState<Item>): void {
    // A client with nothing queued or running is forgotten; coming back it is "never served" again,
    // which only helps a client that went quiet.
    if (state.items.length === 0 && state.running === 0) this.clients.delete(client);
  }
}
