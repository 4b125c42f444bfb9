import type { Log } from "../../ports/chain.js";

/** An inclusive range of block numbers. */
export interface BlockRange {
  from: number;
  to: number;
}

/**
 * What the indexer feeds logs into. Each range is applied in two steps:
 *
 * 1. `prepare(logs, range)`: asynchronous, outside any transaction; may read chain state (at
 *    `range.to`) and decrypt. Must not write.
 * 2. `commit(prepared)`: synchronous, inside the one SQLite transaction that also moves the
 *    indexer's cursor, so the data and the cursor are durable together or not at all.
 *
 * A projection should be idempotent (re-read state rather than replay deltas): after a crash
 * between commit and anything outside SQLite, or after a reorg, ranges are applied again.
 */
export interface Projection<P = unknown> {
  prepare(logs: Log[], range: BlockRange): Promise<P>;
  commit(prepared: P): void;
  /**
   * Called after a reorg, before re-indexing, with the common ancestor: forget what was
   * derived from blocks after `toBlock` and recompute it as of `toBlock`.
   */
  rewind(toBlock: number): Promise<void> | void;
  /** Optional: called once the transaction that ran `commit(prepared)` is durable. */
  committed?(prepared: P): void;
}
