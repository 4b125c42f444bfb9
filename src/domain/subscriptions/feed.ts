/** Wakes the event streams (WatchEvents) when new events were committed to the log. */
export class EventFeed {
  private waiters = new Set<() => void>();
  /** Counts notifications, so that a reader misses none between its read and its wait. */
  version = 0;

  notify(): void {
    this.version++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at the next notify (at once if one came since `seen`, a `version` read before
   * the reader looked at the log), after `timeoutMs`, or when `signal` aborts.
   */
  wait(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || this.version !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }
}
