export type OperationState = "pending" | "submitted" | "confirmed" | "failed";

export interface OperationRecord {
  id: string;
  idempotencyKey: string | null;
  requestHash: string;
  kind: string;
  release: string | null;
  signer: string;
  state: OperationState;
  to: string;
  data: string;
  nonce: number | null;
  gasLimit: string | null;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
  deferrals: number;
  createdAt: number;
  updatedAt: number;
}

export interface TxRecord {
  hash: string;
  operationId: string;
  nonce: number;
  raw: string;
  maxFeePerGas: string | null;
  maxPriorityFeePerGas: string | null;
  gasPrice: string | null;
  sentAt: number | null;
  createdAt: number;
}

export type NewOperation = Pick<OperationRecord, "id" | "idempotencyKey" | "requestHash" | "kind" | "release" | "signer" | "to" | "data">;

/** The durable state of the write pipeline. */
export interface OperationStore {
  /** Inserts, or returns the operation already recorded under the same idempotency key. */
  recordOperation(op: NewOperation, now: number): { operation: OperationRecord; created: boolean };
  findOperation(id: string): OperationRecord | undefined;
  /** The operation recorded under an idempotency key (a unique index). */
  findOperationByKey(idempotencyKey: string): OperationRecord | undefined;
  listOperations(filter: { state?: OperationState; limit: number }): OperationRecord[];
  /** Oldest first. */
  operationsInState(signer: string, state: OperationState, limit: number): OperationRecord[];
  countInState(state: OperationState): number;
  transactionsOf(operationId: string): TxRecord[];
  /** The persisted next nonce for a signer, or undefined before the first one. */
  nextNonce(signer: string): number | undefined;
  setNextNonce(signer: string, next: number): void;
  /** In one transaction, for each: the signed transaction, its nonce consumed, the state
   * `submitted`. */
  commitSigned(signed: { op: OperationRecord; tx: TxRecord; gasLimit: bigint }[], now: number): void;
  /** A replacement (fee bump) of an already submitted operation. */
  addReplacement(tx: TxRecord, now: number): void;
  markSent(hashes: string[], at: number): void;
  /** Runs `fn` in one transaction, so a round's updates cost one durable write. */
  inTransaction<T>(fn: () => T): T;
  markConfirmed(id: string, txHash: string, blockNumber: number, now: number): void;
  markFailed(id: string, reason: string, now: number, at?: { txHash: string; blockNumber: number }): void;
  /** Back to pending with no nonce: its nonce was taken by a transaction not ours. */
  requeue(id: string, now: number): void;
  defer(id: string, now: number): void;
}
