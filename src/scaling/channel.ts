/**
 * Events from concurrent work (generations and executions finishing in any
 * order) handed to one async generator in the order they happen.
 */
export class EventChannel<Item> {
  private readonly items: Item[] = [];
  private waiting: (() => void) | undefined;

  push(item: Item): void {
    this.items.push(item);
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.();
  }

  /** Yields what was pushed until `done` settles and nothing is left, or until `signal` aborts. */
  async *drain(done: Promise<unknown>, signal?: AbortSignal): AsyncGenerator<Item> {
    let finished = false;
    const wakeUp = (): void => {
      const wake = this.waiting;
      this.waiting = undefined;
      wake?.();
    };
    void done.then(
      () => {
        finished = true;
        wakeUp();
      },
      () => {
        finished = true;
        wakeUp();
      },
    );
    signal?.addEventListener("abort", wakeUp, { once: true });
    for (;;) {
      if (signal?.aborted) return;
      while (this.items.length > 0) yield this.items.shift() as Item;
      if (finished || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }
}
