import { AsyncResource } from "node:async_hooks";
import { createHash, randomUUID } from "node:crypto";
import { keccak256 } from "ethers";
import type { Logger } from "pino";
import { RevertError, type Chain, type FeeQuote } from "../../ports/chain.js";
import type { OperationRecord, OperationStore, TxRecord } from "../../ports/operations.js";
import type { Wallet } from "../../ports/wallet.js";
import { Mutex } from "./mutex.js";

export interface WriteRequest {
  kind: string;
  release?: string;
  /** The contract called and the ABI-encoded call. */
  to: string;
  data: string;
  idempotencyKey?: string;
}

export interface PipelineOptions {
  /** Blocks on top of the receipt's before an operation counts as confirmed (≥ 1). */
  confirmations: number;
  /** Percent added to gas estimates. */
  gasMarginPercent: number;
  /** A transaction with no receipt this long after sending is re-sent with higher fees. */
  stuckAfterMs: number;
  /** Fee increase on each replacement, in percent; nodes require at least 10. */
  feeBumpPercent: number;
  pollIntervalMs: number;
  /** How many operations are estimated at once. */
  estimateConcurrency: number;
  /** How many signed transactions are sent to the node at once. */
  broadcastConcurrency: number;
  /** How often an estimate that reverts is retried while earlier writes are unconfirmed. */
  maxDeferrals: number;
  /** Test seam: called at the named points so a test can kill the process there. */
  failpoint?: (name: "after-sign-commit" | "after-broadcast") => void;
}

type Outcome =
  | { op: OperationRecord; state: "confirmed"; txHash: string; blockNumber: number }
  | { op: OperationRecord; state: "failed"; reason: string; txHash: string; blockNumber: number }
  | { op: OperationRecord; state: "requeue" };

export const DEFAULT_PIPELINE: PipelineOptions = {
  confirmations: 1,
  gasMarginPercent: 25,
  stuckAfterMs: 30_000,
  feeBumpPercent: 12.5,
  pollIntervalMs: 250,
  estimateConcurrency: 16,
  broadcastConcurrency: 64,
  maxDeferrals: 40,
};

/**
 * The durable write pipeline for one signer. An operation is recorded before the caller is
 * answered; its nonce is assigned under a lock and persisted with the signed bytes before
 * they are broadcast; after a crash the same bytes are sent again. Many operations are in
 * flight at once: receipts are awaited by a poller, not one write at a time.
 */
export class WritePipeline {
  private readonly signing = new Mutex();
  private readonly opts: PipelineOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private chainId: bigint | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly settleListeners = new Set<(op: OperationRecord) => void>();
  /** Head block seen by the last poll; exposed for status. */
  head = 0;
  lastError: string | undefined;

  constructor(
    private readonly store: OperationStore,
    private readonly chain: Chain,
    private readonly wallet: Wallet,
    private readonly log: Logger,
    opts: Partial<PipelineOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PIPELINE, ...opts };
  }

  get signer(): string {
    return this.wallet.address.toLowerCase();
  }

  /** Records the write; the pipeline carries it out. A repeated key returns the same one. */
  submit(req: WriteRequest): { operation: OperationRecord; created: boolean } {
    const requestHash = createHash("sha256").update(`${req.kind}\n${req.to.toLowerCase()}\n${req.data}`).digest("hex");
    const result = this.store.recordOperation(
      {
        id: randomUUID(),
        idempotencyKey: req.idempotencyKey || null,
        requestHash,
        kind: req.kind,
        release: req.release?.toLowerCase() ?? null,
        signer: this.signer,
        to: req.to.toLowerCase(),
        data: req.data,
      },
      Date.now(),
    );
    if (result.created) this.kick();
    return result;
  }

  /** Called with each operation as it is confirmed or fails. */
  onSettled(listener: (op: OperationRecord) => void): () => void {
    this.settleListeners.add(listener);
    return () => this.settleListeners.delete(listener);
  }

  /** Resolves when the operation is confirmed or failed (or the timeout passes). */
  async settled(id: string, timeoutMs = 60_000): Promise<OperationRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const op = this.store.findOperation(id);
      if (!op) throw new Error(`no operation ${id}`);
      if (op.state === "confirmed" || op.state === "failed") return op;
      if (Date.now() > deadline) return op;
      await new Promise<void>((resolve) => {
        const set = this.waiters.get(id) ?? new Set();
        set.add(resolve);
        this.waiters.set(id, set);
        setTimeout(resolve, Math.min(this.opts.pollIntervalMs, deadline - Date.now())).unref();
      });
    }
  }

  /**
   * Reconciles with the node, re-sends every signed transaction that has no receipt (the
   * same bytes), and starts processing.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.chainId = await this.chain.chainId();
    await this.signing.run(async () => {
      const chainNext = await this.chain.nonceOf(this.signer, "latest");
      const persisted = this.store.nextNonce(this.signer);
      // Someone else used this key (e.g. `scr chain deploy`): never reuse its nonces.
      if (persisted === undefined || persisted < chainNext) this.store.setNextNonce(this.signer, chainNext);
    });
    const inFlight = this.store.operationsInState(this.signer, "submitted", 100_000);
    await this.sendAll(inFlight.flatMap((op) => this.store.transactionsOf(op.id).reverse()));
    if (inFlight.length > 0) this.log.info({ count: inFlight.length }, "re-sent in-flight transactions after restart");
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Runs a round now, or right after the current one. Bound to the context the pipeline was
   * made in: a request that kicks it does not lend its async context (its request id on log
   * lines) to the rounds and timers that follow.
   */
  readonly kick: () => void = AsyncResource.bind(() => this.kickNow());

  private kickNow(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else {
        this.timer = setTimeout(() => this.kick(), this.opts.pollIntervalMs);
        this.timer.unref();
      }
    });
  }

  private async round(): Promise<void> {
    try {
      await this.processPending();
      await this.pollReceipts();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.log.warn({ err }, "write pipeline round failed; retrying");
    }
  }

  private async processPending(): Promise<void> {
    for (;;) {
      const batch = this.store.operationsInState(this.signer, "pending", 256);
      if (batch.length === 0 || this.stopped) return;
      let dependsOnEarlier = this.store.operationsInState(this.signer, "submitted", 1).length > 0;
      const estimates = await mapLimit(batch, this.opts.estimateConcurrency, (op) => this.estimate(op));
      const ready: { op: OperationRecord; gas: bigint }[] = [];
      let progressed = false;
      for (let i = 0; i < batch.length; i++) {
        const op = batch[i]!;
        const estimate = estimates[i]!;
        if ("gas" in estimate) {
          ready.push({ op, gas: estimate.gas });
          // Later operations in this batch may depend on this one, which is not mined yet.
          dependsOnEarlier = true;
        } else if ("revert" in estimate) {
          if (dependsOnEarlier && op.deferrals < this.opts.maxDeferrals) {
            this.store.defer(op.id, Date.now());
          } else {
            this.store.markFailed(op.id, estimate.revert, Date.now());
            this.notify(op.id);
            progressed = true;
          }
        }
        // otherwise the node is unreachable: retry next round
      }
      if (ready.length > 0) {
        // Started in nonce order, several at a time: a node holds a later nonce until the
        // earlier one arrives.
        await this.sendAll(await this.signAndCommit(ready, await this.chain.fees()));
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  private async estimate(op: OperationRecord): Promise<{ gas: bigint } | { revert: string } | { error: unknown }> {
    try {
      const gas = await this.chain.estimateGas({ from: this.signer, to: op.to, data: op.data });
      return { gas: (gas * BigInt(100 + this.opts.gasMarginPercent)) / 100n };
    } catch (err) {
      if (err instanceof RevertError) return { revert: err.reason };
      return { error: err };
    }
  }

  /**
   * Signs a batch with consecutive nonces under the signer's lock and commits every signed
   * transaction, with the nonces consumed, in one SQLite transaction: one durable write for
   * the batch, and nothing is broadcast before it.
   */
  private signAndCommit(batch: { op: OperationRecord; gas: bigint }[], fees: FeeQuote): Promise<TxRecord[]> {
    return this.signing.run(async () => {
      let nonce = this.store.nextNonce(this.signer) ?? (await this.chain.nonceOf(this.signer, "pending"));
      const signed: { op: OperationRecord; tx: TxRecord; gasLimit: bigint }[] = [];
      for (const { op, gas } of batch) {
        signed.push({ op, tx: await this.sign(op.id, op.to, op.data, nonce++, gas, fees), gasLimit: gas });
      }
      this.store.commitSigned(signed, Date.now());
      return signed.map((s) => s.tx);
    });
  }

  private async sign(operationId: string, to: string, data: string, nonce: number, gasLimit: bigint, fees: FeeQuote): Promise<TxRecord> {
    const raw = await this.wallet.signTransaction({
      to,
      data,
      nonce,
      chainId: this.chainId!,
      gasLimit,
      ...(fees.maxFeePerGas !== undefined
        ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 0n }
        : { type: 0, gasPrice: fees.gasPrice ?? 0n }),
    });
    return {
      hash: keccak256(raw),
      operationId,
      nonce,
      raw,
      maxFeePerGas: fees.maxFeePerGas?.toString() ?? null,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas?.toString() ?? null,
      gasPrice: fees.maxFeePerGas === undefined ? (fees.gasPrice ?? 0n).toString() : null,
      sentAt: null,
      createdAt: Date.now(),
    };
  }

  /**
   * Broadcasts; "already known" and "nonce too low" are settled later by the receipt.
   * Resolves to whether the node has it, for the caller to record.
   */
  private async send(tx: TxRecord): Promise<boolean> {
    try {
      return (await this.chain.broadcast(tx.raw)) !== "underpriced";
    } catch (err) {
      this.log.warn({ err, hash: tx.hash }, "broadcast failed; will retry");
      return false;
    }
  }

  /** Sends transactions several at a time, started in nonce order, and records them sent. */
  private async sendAll(txs: TxRecord[]): Promise<void> {
    const sent: string[] = [];
    await mapLimit(txs, this.opts.broadcastConcurrency, async (tx) => {
      this.opts.failpoint?.("after-sign-commit");
      if (await this.send(tx)) sent.push(tx.hash);
      this.opts.failpoint?.("after-broadcast");
    });
    this.store.markSent(sent, Date.now());
  }

  /**
   * One sender's transactions are mined in nonce order, so the node's "latest" nonce says
   * which operations are mined: their receipts are read once each. The others are only
   * watched for being stuck.
   */
  private async pollReceipts(): Promise<void> {
    const inFlight = this.store.operationsInState(this.signer, "submitted", 100_000);
    if (inFlight.length === 0) return;
    this.head = await this.chain.blockNumber();
    const latestNonce = await this.chain.nonceOf(this.signer, "latest");
    const mined = inFlight.filter((op) => op.nonce !== null && op.nonce < latestNonce);
    const waiting = inFlight.filter((op) => op.nonce === null || op.nonce >= latestNonce);
    const outcomes = (await mapLimit(mined, 16, (op) => this.outcomeOf(op))).filter((o) => o !== undefined);
    const now = Date.now();
    this.store.inTransaction(() => {
      for (const o of outcomes) {
        if (o.state === "confirmed") this.store.markConfirmed(o.op.id, o.txHash, o.blockNumber, now);
        else if (o.state === "failed") this.store.markFailed(o.op.id, o.reason, now, { txHash: o.txHash, blockNumber: o.blockNumber });
        else {
          this.log.warn({ operation: o.op.id, nonce: o.op.nonce }, "nonce taken by another transaction; re-queued");
          this.store.requeue(o.op.id, now);
        }
      }
    });
    for (const o of outcomes) if (o.state !== "requeue") this.notify(o.op.id);
    for (const op of waiting) {
      const newest = this.store.transactionsOf(op.id)[0];
      if (newest && (newest.sentAt === null || Date.now() - newest.sentAt >= this.opts.stuckAfterMs)) {
        await this.replace(op, newest);
      }
    }
  }

  /** What became of a mined operation; undefined while it lacks confirmations. */
  private async outcomeOf(op: OperationRecord): Promise<Outcome | undefined> {
    const txs = this.store.transactionsOf(op.id);
    for (const tx of txs) {
      const receipt = await this.chain.receipt(tx.hash);
      if (!receipt) continue;
      if (this.head - receipt.blockNumber + 1 < Math.max(1, this.opts.confirmations)) return undefined;
      if (receipt.status === 1) return { op, state: "confirmed", txHash: tx.hash, blockNumber: receipt.blockNumber };
      const reason =
        (await this.chain.revertReason({ from: this.signer, to: op.to, data: op.data }, receipt.blockNumber - 1)) ??
        "the transaction reverted";
      return { op, state: "failed", reason, txHash: tx.hash, blockNumber: receipt.blockNumber };
    }
    // The nonce is used up on chain but by none of our hashes: another sender of this key
    // took it. Sign again with a fresh nonce rather than lose the operation. Asked twice, so
    // a node that reports the nonce before it indexes the receipt does not trigger it.
    await new Promise((r) => setTimeout(r, this.opts.pollIntervalMs));
    const again = await Promise.all(txs.map((t) => this.chain.receipt(t.hash)));
    return again.every((r) => r === null) ? { op, state: "requeue" } : undefined;
  }

  /** Re-sends a stuck transaction: same nonce, fees raised by at least the node's minimum. */
  private async replace(op: OperationRecord, prev: TxRecord): Promise<void> {
    const bump = (v: string | null) => (v === null ? undefined : ceilPercent(BigInt(v), this.opts.feeBumpPercent));
    const quote = await this.chain.fees();
    const fees: FeeQuote =
      prev.maxFeePerGas !== null
        ? {
            maxFeePerGas: max(bump(prev.maxFeePerGas)!, quote.maxFeePerGas ?? 0n),
            maxPriorityFeePerGas: max(bump(prev.maxPriorityFeePerGas ?? "0")!, quote.maxPriorityFeePerGas ?? 0n),
          }
        : { gasPrice: max(bump(prev.gasPrice ?? "0")!, quote.gasPrice ?? 0n) };
    if (fees.gasPrice === 0n) {
      await this.sendAll([prev]); // free-gas network: nothing to outbid, just send again
      return;
    }
    const tx = await this.signing.run(() => this.sign(op.id, op.to, op.data, prev.nonce, BigInt(op.gasLimit ?? "0"), fees));
    this.store.addReplacement(tx, Date.now());
    this.log.info({ operation: op.id, nonce: prev.nonce, hash: tx.hash }, "stuck transaction re-sent with higher fees");
    await this.sendAll([tx]);
  }

  private notify(id: string): void {
    if (this.settleListeners.size > 0) {
      const op = this.store.findOperation(id);
      if (op) for (const listener of this.settleListeners) listener(op);
    }
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const fn of set) fn();
  }
}

function ceilPercent(v: bigint, percent: number): bigint {
  const scaled = BigInt(Math.round(percent * 100));
  return v + (v * scaled + 9_999n) / 10_000n;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);


async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
