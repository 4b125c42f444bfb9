import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { NewOperation, OperationRecord, OperationState, OperationStore, TxRecord } from "../../../ports/operations.js";
import { AlreadyExistsError } from "../../../domain/errors.js";
import type { Db } from "./open.js";
import { operations, signerNonces, transactions } from "./schema.js";

type OpRow = typeof operations.$inferSelect;

const toRecord = (row: OpRow): OperationRecord => ({ ...row, state: row.state as OperationState });

/** OperationStore over drizzle. Every multi-row change is one SQLite transaction. */
export class OperationRepository implements OperationStore {
  private readonly byId;
  private readonly byKey;

  constructor(private readonly db: Db) {
    this.byId = db.select().from(operations).where(eq(operations.id, sql.placeholder("id"))).prepare();
    this.byKey = db.select().from(operations).where(eq(operations.idempotencyKey, sql.placeholder("key"))).prepare();
  }

  recordOperation(op: NewOperation, now: number) {
    return this.db.transaction(() => {
      if (op.idempotencyKey) {
        const existing = this.byKey.get({ key: op.idempotencyKey });
        if (existing) {
          if (existing.requestHash !== op.requestHash) {
            throw new AlreadyExistsError(
              `Idempotency-Key ${op.idempotencyKey} was already used for a different request (operation ${existing.id})`,
            );
          }
          return { operation: toRecord(existing), created: false };
        }
      }
      const row: OpRow = {
        ...op,
        state: "pending",
        nonce: null,
        gasLimit: null,
        txHash: null,
        blockNumber: null,
        failureReason: null,
        deferrals: 0,
        createdAt: now,
        updatedAt: now,
      };
      this.db.insert(operations).values(row).run();
      return { operation: toRecord(row), created: true };
    }, { behavior: "immediate" });
  }

  findOperation(id: string) {
    const row = this.byId.get({ id });
    return row ? toRecord(row) : undefined;
  }

  findOperationByKey(idempotencyKey: string) {
    const row = this.db.select().from(operations).where(eq(operations.idempotencyKey, idempotencyKey)).get();
    return row ? toRecord(row) : undefined;
  }

  listOperations(filter: { state?: OperationState; limit: number }) {
    const q = this.db.select().from(operations);
    const rows = (filter.state ? q.where(eq(operations.state, filter.state)) : q)
      .orderBy(desc(operations.createdAt), desc(operations.id))
      .limit(filter.limit)
      .all();
    return rows.map(toRecord);
  }

  operationsInState(signer: string, state: OperationState, limit: number) {
    return this.db
      .select()
      .from(operations)
      .where(and(eq(operations.signer, signer), eq(operations.state, state)))
      .orderBy(asc(operations.nonce), asc(operations.createdAt), asc(operations.id))
      .limit(limit)
      .all()
      .map(toRecord);
  }

  countInState(state: OperationState) {
    return this.db.select({ n: count() }).from(operations).where(eq(operations.state, state)).get()?.n ?? 0;
  }

  transactionsOf(operationId: string): TxRecord[] {
    return this.db
      .select()
      .from(transactions)
      .where(eq(transactions.operationId, operationId))
      .orderBy(desc(transactions.createdAt))
      .all();
  }

  nextNonce(signer: string) {
    return this.db.select().from(signerNonces).where(eq(signerNonces.signer, signer)).get()?.next;
  }

  setNextNonce(signer: string, next: number) {
    this.db
      .insert(signerNonces)
      .values({ signer, next })
      .onConflictDoUpdate({ target: signerNonces.signer, set: { next } })
      .run();
  }

  commitSigned(signed: { op: OperationRecord; tx: TxRecord; gasLimit: bigint }[], now: number) {
    if (signed.length === 0) return;
    this.db.transaction((t) => {
      for (const { op, tx, gasLimit } of signed) {
        t.insert(transactions).values(tx).run();
        t.update(operations)
          .set({ state: "submitted", nonce: tx.nonce, gasLimit: gasLimit.toString(), txHash: tx.hash, updatedAt: now })
          .where(eq(operations.id, op.id))
          .run();
      }
      const last = signed[signed.length - 1]!;
      t.insert(signerNonces)
        .values({ signer: last.op.signer, next: last.tx.nonce + 1 })
        .onConflictDoUpdate({ target: signerNonces.signer, set: { next: last.tx.nonce + 1 } })
        .run();
    }, { behavior: "immediate" });
  }

  addReplacement(tx: TxRecord, now: number) {
    this.db.transaction((t) => {
      t.insert(transactions).values(tx).run();
      t.update(operations).set({ txHash: tx.hash, updatedAt: now }).where(eq(operations.id, tx.operationId)).run();
    }, { behavior: "immediate" });
  }

  markSent(hashes: string[], at: number) {
    if (hashes.length === 0) return;
    this.db.update(transactions).set({ sentAt: at }).where(inArray(transactions.hash, hashes)).run();
  }

  inTransaction<T>(fn: () => T): T {
    return this.db.$client.transaction(fn).immediate();
  }

  markConfirmed(id: string, txHash: string, blockNumber: number, now: number) {
    this.db
      .update(operations)
      .set({ state: "confirmed", txHash, blockNumber, failureReason: null, updatedAt: now })
      .where(eq(operations.id, id))
      .run();
  }

  markFailed(id: string, reason: string, now: number, at?: { txHash: string; blockNumber: number }) {
    this.db
      .update(operations)
      .set({ state: "failed", failureReason: reason, updatedAt: now, ...(at ?? {}) })
      .where(eq(operations.id, id))
      .run();
  }

  requeue(id: string, now: number) {
    this.db
      .update(operations)
      .set({ state: "pending", nonce: null, txHash: null, gasLimit: null, updatedAt: now })
      .where(eq(operations.id, id))
      .run();
  }

  defer(id: string, now: number) {
    this.db
      .update(operations)
      .set({ deferrals: sql`${operations.deferrals} + 1`, updatedAt: now })
      .where(eq(operations.id, id))
      .run();
  }
}
