/**
 * A generic chain follower over the Chain port.
 *
 * - A persisted cursor (the next block to read) and the hashes of the last indexed blocks.
 * - Only blocks at most `head - confirmations` are indexed.
 * - Catch-up in adaptive ranges: halved when the node refuses a range as too large (or times
 *   out), doubled after each full range that succeeded.
 * - Before each range, the stored hash of the last indexed block is compared with the chain's;
 *   on a difference the indexer walks back through the stored hashes to the common ancestor,
 *   lets the projection rewind, and re-indexes from there.
 * - At start, the chain id and genesis hash recorded when indexing began, and contract code at
 *   the configured addresses, are checked: a reset dev chain gives a `ChainResetError`.
 * - Each range: `projection.prepare` (async, outside any transaction), then
 *   `projection.commit` and the cursor update in ONE SQLite transaction.
 */
import type { Logger } from "pino";
import type { Chain, Log } from "../../ports/chain.js";
import { Mutex } from "../operations/mutex.js";
import type { BlockRange, Projection } from "./projection.js";

export type { BlockRange, Projection } from "./projection.js";

export interface IndexerCursor {
  /** Decimal chain id. */
  chainId: string;
  genesisHash: string;
  /** The next block to read. */
  nextBlock: number;
}

export interface BlockHash {
  number: number;
  hash: string;
}

/** Where the indexer keeps its state; the SQLite adapter is `IndexerRepository`. */
export interface IndexerStateStore {
  /** Runs `fn` in one transaction of the database the projection writes to. */
  transaction<T>(fn: () => T): T;
  cursor(name: string): IndexerCursor | undefined;
  /** Creates the cursor unless one exists. */
  initCursor(name: string, cursor: IndexerCursor): void;
  blockHash(name: string, number: number): string | undefined;
  /** Stored block hashes, newest first. */
  recentBlocks(name: string, limit: number): BlockHash[];
  /** Moves the cursor, records `hashes`, keeps only the newest `keep` hashes. */
  advance(name: string, nextBlock: number, hashes: BlockHash[], keep: number): void;
  /** Moves the cursor back and forgets the hashes of blocks from `nextBlock` on. */
  rewindCursor(name: string, nextBlock: number): void;
}

export type ChainResetReason = "chain-id" | "genesis" | "no-code";

/** The node is not the chain this data directory was indexed from (or lacks the contracts). */
export class ChainResetError extends Error {
  override readonly name = "ChainResetError";
  constructor(
    message: string,
    readonly reason: ChainResetReason,
    readonly details: Record<string, string>,
  ) {
    super(message);
  }
}

export interface IndexerProgress {
  from: number;
  to: number;
  head: number;
  /** Of the current catch-up, 0–100. */
  percent: number;
}

export interface IndexerStatus {
  name: string;
  /** The node's latest block; null before the first poll. */
  head: number | null;
  /** head − confirmations: the newest block that may be indexed. */
  safeHead: number | null;
  confirmations: number;
  /** The last indexed block (startBlock − 1 when none yet). */
  indexedThrough: number;
  /** Blocks that may be indexed but are not yet: safeHead − indexedThrough (≥ 0). */
  lag: number | null;
  catchingUp: boolean;
  /** The last range indexed, with the catch-up's percentage. */
  progress: IndexerProgress | null;
  /** Blocks asked per getLogs call now. */
  rangeSize: number;
  reorgs: number;
  running: boolean;
  lastError: string | null;
}

export interface IndexerOptions<P> {
  chain: Chain;
  state: IndexerStateStore;
  projection: Projection<P>;
  log: Logger;
  /** The contracts whose logs are read, by name (names appear in error messages). */
  contracts: Record<string, string>;
  /** Names the cursor, so several followers can share a database. Default "scr". */
  name?: string;
  /** For messages only, e.g. the node's JSON-RPC URL. */
  rpcUrl?: string;
  /** config `chain.confirmations`. Default 0. */
  confirmations?: number;
  /** The first block to read on a fresh database. Default 0. */
  startBlock?: number;
  /** Wait between polls when caught up. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Blocks per getLogs call at start. Default 2000. */
  initialRange?: number;
  /** Upper bound of the range. Default 10 000. */
  maxRange?: number;
  /** Progress is logged at most this often during catch-up. Default 5000 ms. */
  progressIntervalMs?: number;
  /** Hashes kept for reorg detection. Default 128. */
  keepBlocks?: number;
  /** Longest wait before retrying after an error. Default 30 000 ms. */
  maxBackoffMs?: number;
}

/** getLogs errors that mean "ask for fewer blocks". */
const RANGE_ERROR =
  /too many|more than \d+|result(s)? (set )?(is )?too (large|big)|range|limit|exceed|response (is )?too (large|big)|response size|timeout|timed out|deadline/i;

function errorText(err: unknown): string {
  if (!err || typeof err !== "object") return String(err);
  const o = err as { message?: unknown; error?: { message?: unknown }; info?: { error?: { message?: unknown } }; shortMessage?: unknown };
  return [o.message, o.shortMessage, o.error?.message, o.info?.error?.message].filter((m) => typeof m === "string").join(" | ");
}

type Outcome = "idle" | "progress";

export class Indexer<P = unknown> {
  readonly name: string;
  private readonly chain: Chain;
  private readonly state: IndexerStateStore;
  private readonly projection: Projection<P>;
  private readonly log: Logger;
  private readonly contracts: Record<string, string>;
  private readonly addresses: string[];
  private readonly where: string;
  private readonly confirmations: number;
  private readonly startBlock: number;
  private readonly pollIntervalMs: number;
  private readonly maxRange: number;
  private readonly progressIntervalMs: number;
  private readonly keepBlocks: number;
  private readonly maxBackoffMs: number;

  private readonly mutex = new Mutex();
  private initialized = false;
  private nextBlock = 0;
  private range: number;
  private head: number | null = null;
  private safeHead: number | null = null;
  private catchingUp = false;
  private catchUpFrom = 0;
  private progress: IndexerProgress | null = null;
  private lastProgressLog = 0;
  private lastError: string | null = null;
  private reorgs = 0;

  private loop: Promise<void> | undefined;
  private stopping = false;
  private kicked = false;
  private wake: (() => void) | undefined;

  constructor(opts: IndexerOptions<P>) {
    this.name = opts.name ?? "scr";
    this.chain = opts.chain;
    this.state = opts.state;
    this.projection = opts.projection;
    this.log = opts.log;
    this.contracts = opts.contracts;
    this.addresses = Object.values(opts.contracts);
    this.where = opts.rpcUrl ? `the chain at ${opts.rpcUrl}` : "the chain node";
    this.confirmations = Math.max(0, opts.confirmations ?? 0);
    this.startBlock = Math.max(0, opts.startBlock ?? 0);
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.maxRange = Math.max(1, opts.maxRange ?? 10_000);
    this.range = Math.min(this.maxRange, Math.max(1, opts.initialRange ?? 2000));
    this.progressIntervalMs = opts.progressIntervalMs ?? 5000;
    this.keepBlocks = Math.max(2, opts.keepBlocks ?? 128);
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.nextBlock = this.startBlock;
  }

  status(): IndexerStatus {
    const indexedThrough = this.nextBlock - 1;
    return {
      name: this.name,
      head: this.head,
      safeHead: this.safeHead,
      confirmations: this.confirmations,
      indexedThrough,
      lag: this.safeHead === null ? null : Math.max(0, this.safeHead - indexedThrough),
      catchingUp: this.catchingUp,
      progress: this.progress && { ...this.progress },
      rangeSize: this.range,
      reorgs: this.reorgs,
      running: this.loop !== undefined && !this.stopping,
      lastError: this.lastError,
    };
  }

  /**
   * Checks that the node is the chain this database was indexed from and holds the contracts,
   * and loads (or creates) the cursor. Throws `ChainResetError` when it is not. Idempotent.
   */
  async init(): Promise<void> {
    if (this.initialized) return;
    const cursor = this.state.cursor(this.name);
    const { chainId, genesisHash } = await this.verifyChain(cursor);
    if (cursor) {
      this.nextBlock = cursor.nextBlock;
    } else {
      this.state.initCursor(this.name, { chainId, genesisHash, nextBlock: this.startBlock });
      this.nextBlock = this.state.cursor(this.name)?.nextBlock ?? this.startBlock;
    }
    this.initialized = true;
    this.log.info(
      { indexer: this.name, nextBlock: this.nextBlock, confirmations: this.confirmations, chainId },
      cursor ? "indexer resumes" : "indexer starts on a fresh database",
    );
  }

  /** Starts polling in the background. Rejects (with `ChainResetError`) only if `init` fails. */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.init();
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops polling after the range in progress; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Polls now instead of waiting for the poll interval (e.g. after sending a transaction). */
  kick(): void {
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  /** Indexes until the safe head (as seen at the time) is reached; errors are thrown. */
  async catchUp(): Promise<IndexerStatus> {
    await this.init();
    while ((await this.mutex.run(() => this.step())) === "progress") {
      // next range
    }
    return this.status();
  }

  // ------------------------------------------------------------------------------- loop

  private async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopping) {
      let outcome: Outcome;
      try {
        outcome = await this.mutex.run(() => this.step());
        backoff = 0;
        this.lastError = null;
      } catch (err) {
        backoff = Math.min(this.maxBackoffMs, backoff === 0 ? Math.max(100, this.pollIntervalMs) : backoff * 2);
        this.lastError = err instanceof Error ? err.message : String(err);
        const level = err instanceof ChainResetError ? "error" : "warn";
        this.log[level]({ err, indexer: this.name, retryInMs: backoff }, "indexer error; retrying");
        await this.sleep(backoff);
        continue;
      }
      if (outcome === "idle") await this.sleep(this.pollIntervalMs);
      else await new Promise((r) => setImmediate(r));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.kicked || this.stopping) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        if (this.wake === finish) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
    });
  }

  // ------------------------------------------------------------------------------- one range

  private async step(): Promise<Outcome> {
    const head = await this.chain.blockNumber();
    const safe = head - this.confirmations;
    this.head = head;
    this.safeHead = safe;
    if (this.nextBlock > safe) {
      // Nothing new to read, but the last indexed block may have been replaced.
      if (await this.checkReorg()) return "progress";
      this.finishCatchUp();
      return "idle";
    }
    if (await this.checkReorg()) return "progress";

    const from = this.nextBlock;
    const to = Math.min(safe, from + this.range - 1);
    const header = await this.chain.getBlock(to);
    if (!header) return "progress"; // the chain got shorter meanwhile; look again

    let logs: Log[];
    try {
      logs = await this.chain.logs({ addresses: this.addresses, fromBlock: from, toBlock: to });
    } catch (err) {
      const span = to - from + 1;
      if (span > 1 && RANGE_ERROR.test(errorText(err))) {
        this.range = Math.max(1, Math.floor(span / 2));
        this.log.info({ indexer: this.name, from, to, rangeSize: this.range, reason: errorText(err) }, "the node refused the block range; halving it");
        return "progress";
      }
      throw err;
    }
    if (logs.some((l) => l.blockNumber === to && l.blockHash.toLowerCase() !== header.hash.toLowerCase())) {
      return "progress"; // a reorg happened between the two calls
    }

    const range: BlockRange = { from, to };
    const prepared = await this.projection.prepare(logs, range);
    const again = await this.chain.getBlock(to);
    if (!again || again.hash !== header.hash) {
      this.log.debug({ indexer: this.name, block: to }, "block changed while the range was prepared; preparing again");
      return "progress";
    }

    const hashes = new Map<number, string>();
    for (const l of logs) if (l.blockNumber >= from && l.blockNumber <= to) hashes.set(l.blockNumber, l.blockHash);
    hashes.set(to, header.hash);
    this.state.transaction(() => {
      this.projection.commit(prepared);
      this.state.advance(
        this.name,
        to + 1,
        [...hashes].map(([number, hash]) => ({ number, hash })),
        this.keepBlocks,
      );
    });
    this.nextBlock = to + 1;
    try {
      this.projection.committed?.(prepared);
    } catch (err) {
      this.log.error({ err, indexer: this.name, from, to }, "a listener of committed events failed");
    }

    if (to - from + 1 >= this.range) this.range = Math.min(this.maxRange, this.range * 2);
    this.reportProgress(from, to, head, safe, logs.length);
    return "progress";
  }

  private reportProgress(from: number, to: number, head: number, safe: number, events: number): void {
    if (to < safe && !this.catchingUp) {
      this.catchingUp = true;
      this.catchUpFrom = from;
      this.lastProgressLog = 0;
      this.log.info({ indexer: this.name, from, head, confirmations: this.confirmations }, "indexer catching up");
    }
    const base = this.catchingUp ? this.catchUpFrom : from;
    const percent = to >= safe ? 100 : Math.floor(((to - base + 1) / (safe - base + 1)) * 1000) / 10;
    this.progress = { from, to, head, percent };
    if (this.catchingUp) {
      const now = Date.now();
      if (now - this.lastProgressLog >= this.progressIntervalMs) {
        this.lastProgressLog = now;
        this.log.info({ indexer: this.name, ...this.progress, rangeSize: this.range }, "indexer progress");
      }
      if (to >= safe) this.finishCatchUp();
    } else {
      this.log.debug({ indexer: this.name, from, to, events }, "indexed");
    }
  }

  private finishCatchUp(): void {
    if (!this.catchingUp) return;
    this.catchingUp = false;
    this.log.info({ indexer: this.name, indexedThrough: this.nextBlock - 1, head: this.head }, "indexer caught up");
  }

  // ------------------------------------------------------------------------------- reorgs

  /** Rewinds to the common ancestor when the last indexed block is no longer on the chain. */
  private async checkReorg(): Promise<boolean> {
    const last = this.nextBlock - 1;
    if (last < this.startBlock) return false;
    const stored = this.state.blockHash(this.name, last);
    if (stored === undefined) return false;
    const current = await this.chain.getBlock(last);
    if (current && current.hash === stored) return false;

    let ancestor: number | undefined;
    for (const b of this.state.recentBlocks(this.name, this.keepBlocks)) {
      if (b.number >= last) continue;
      const onChain = await this.chain.getBlock(b.number);
      if (onChain && onChain.hash === b.hash) {
        ancestor = b.number;
        break;
      }
    }
    if (ancestor === undefined) {
      await this.verifyChain(this.state.cursor(this.name));
      ancestor = this.startBlock - 1;
      this.log.error(
        { indexer: this.name, last, kept: this.keepBlocks },
        "chain reorganisation deeper than the stored block hashes; re-indexing from the start block",
      );
    }
    const depth = last - ancestor;
    this.log.warn(
      { indexer: this.name, depth, ancestor, orphaned: { number: last, hash: stored }, now: current?.hash ?? null },
      `chain reorganisation of depth ${depth}: rewinding to block ${ancestor}`,
    );
    await this.projection.rewind(ancestor);
    this.state.rewindCursor(this.name, ancestor + 1);
    this.nextBlock = ancestor + 1;
    this.reorgs++;
    return true;
  }

  // ------------------------------------------------------------------------------- reset chain

  private async verifyChain(cursor: IndexerCursor | undefined): Promise<{ chainId: string; genesisHash: string }> {
    const [id, genesis] = await Promise.all([this.chain.chainId(), this.chain.getBlock(0)]);
    if (!genesis) throw new Error(`${this.where} returned no genesis block`);
    const chainId = id.toString();
    if (cursor && cursor.chainId !== chainId) {
      throw new ChainResetError(
        `${this.where} has chain id ${chainId}, but this data directory was indexed from chain id ${cursor.chainId}: ` +
          `it is a different network. Point chain.rpcUrl at the original network, or start with a fresh data directory.`,
        "chain-id",
        { expected: cursor.chainId, actual: chainId },
      );
    }
    if (cursor && cursor.genesisHash !== genesis.hash) {
      throw new ChainResetError(
        `${this.where} has a different genesis block (${genesis.hash}) than the one this data directory was indexed from ` +
          `(${cursor.genesisHash}); it was reset. Start with a fresh data directory, or redeploy with \`scr chain deploy\` ` +
          `and put the new addresses in chain.contracts.`,
        "genesis",
        { expected: cursor.genesisHash, actual: genesis.hash },
      );
    }
    for (const [name, address] of Object.entries(this.contracts)) {
      if (!(await this.chain.hasCode(address))) {
        throw new ChainResetError(
          `${this.where} has no contract code at ${address} (${name})` +
            (cursor ? `, although this data directory was indexed from it: the chain was reset. ` : `: the chain was reset or the address is wrong. `) +
            `Redeploy with \`scr chain deploy\` and put the new addresses in chain.contracts, or start with a fresh data directory.`,
          "no-code",
          { contract: name, address },
        );
      }
    }
    return { chainId, genesisHash: genesis.hash };
  }
}
