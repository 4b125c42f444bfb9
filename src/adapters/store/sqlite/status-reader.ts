/**
 * What `scr status` and GET /status tell about the database, read over a connection of its
 * own, read-only: the same code serves the running gateway and the tool when the gateway is
 * down. Tables another version may not have (the outbox) are looked for, not assumed.
 */
import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { redactUrl } from "../../../config/redact.js";
import type { OperationState } from "../../../ports/operations.js";

const OPERATION_STATES: OperationState[] = ["pending", "submitted", "confirmed", "failed"];
/** How many recent failures (and failing subscriptions) are listed. */
const LIST_LIMIT = 5;

export interface FailedOperation {
  id: string;
  kind: string;
  reason: string | null;
  at: string;
}

export interface FailingSubscription {
  id: string;
  eventType: string;
  /** Scheme, host and path only. */
  callback: string;
  enabled: boolean;
  disabledReason: string | null;
  /** Deliveries waiting, of which `retrying` failed at least once. */
  waiting: number;
  retrying: number;
  dead: number;
  lastStatus: number | null;
  lastError: string | null;
}

export type OutboxStatus =
  | { available: true; backlog: number; retrying: number; dead: number; oldestWaitingAt: string | null; failingSubscriptions: FailingSubscription[] }
  | { available: false; reason: string };

export interface StoreStatus {
  file: string;
  /** The database with its -wal and -shm files. */
  bytes: number;
  operations: {
    byState: Record<OperationState, number>;
    recentFailures: { withinSeconds: number; count: number; latest: FailedOperation[] };
  };
  /** The indexer's persisted cursor; null before its first start. */
  cursor: { chainId: string; indexedThrough: number } | null;
  outbox: OutboxStatus;
}

export class StoreStatusError extends Error {
  override readonly name = "StoreStatusError";
}

/** Reads the status of the SQLite file read-only. Throws `StoreStatusError` when it cannot. */
export function readStoreStatus(file: string, opts: { failedWithinSeconds: number; now?: number }): StoreStatus {
  if (!existsSync(file)) throw new StoreStatusError(`no database at ${file}`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new StoreStatusError(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    db.pragma("busy_timeout = 2000");
    const now = opts.now ?? Date.now();
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    return {
      file,
      bytes: size(file) + size(`${file}-wal`) + size(`${file}-shm`),
      operations: operations(db, tables, now - opts.failedWithinSeconds * 1000, opts.failedWithinSeconds),
      cursor: cursor(db, tables),
      outbox: outbox(db, tables),
    };
  } catch (err) {
    if (err instanceof StoreStatusError) throw err;
    throw new StoreStatusError(`cannot read ${file}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function operations(db: Database.Database, tables: Set<string>, since: number, withinSeconds: number): StoreStatus["operations"] {
  const byState = Object.fromEntries(OPERATION_STATES.map((s) => [s, 0])) as Record<OperationState, number>;
  if (!tables.has("operations")) return { byState, recentFailures: { withinSeconds, count: 0, latest: [] } };
  for (const row of db.prepare("SELECT state, COUNT(*) AS n FROM operations GROUP BY state").all() as { state: OperationState; n: number }[]) {
    byState[row.state] = row.n;
  }
  const { n } = db.prepare("SELECT COUNT(*) AS n FROM operations WHERE state = 'failed' AND updated_at >= ?").get(since) as { n: number };
  const latest = (
    db
      .prepare("SELECT id, kind, failure_reason AS reason, updated_at AS at FROM operations WHERE state = 'failed' AND updated_at >= ? ORDER BY updated_at DESC LIMIT ?")
      .all(since, LIST_LIMIT) as { id: string; kind: string; reason: string | null; at: number }[]
  ).map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  return { byState, recentFailures: { withinSeconds, count: n, latest } };
}

function cursor(db: Database.Database, tables: Set<string>): StoreStatus["cursor"] {
  if (!tables.has("indexer_cursors")) return null;
  const row = db.prepare("SELECT chain_id AS chainId, next_block AS nextBlock FROM indexer_cursors WHERE name = 'scr'").get() as
    | { chainId: string; nextBlock: number }
    | undefined;
  return row ? { chainId: row.chainId, indexedThrough: row.nextBlock - 1 } : null;
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

const OUTBOX_COLUMNS: Record<string, string[]> = {
  deliveries: ["id", "subscription_id", "state", "attempts", "last_status", "last_error", "created_at"],
  subscriptions: ["id", "event_type", "callback_url", "enabled", "disabled_reason"],
};

function outbox(db: Database.Database, tables: Set<string>): OutboxStatus {
  for (const [table, needed] of Object.entries(OUTBOX_COLUMNS)) {
    if (!tables.has(table)) return { available: false, reason: `this database has no ${table} table (no callback outbox yet)` };
    const have = columns(db, table);
    const missing = needed.filter((c) => !have.has(c));
    if (missing.length) return { available: false, reason: `the ${table} table lacks ${missing.join(", ")}` };
  }

  const totals = db
    .prepare(
      `SELECT COALESCE(SUM(state = 'pending'), 0) AS backlog, COALESCE(SUM(state = 'pending' AND attempts > 0), 0) AS retrying,
              COALESCE(SUM(state = 'dead'), 0) AS dead, MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest
       FROM deliveries`,
    )
    .get() as { backlog: number; retrying: number; dead: number; oldest: number | null };
  const rows = db
    .prepare(
      `SELECT s.id, s.event_type AS eventType, s.callback_url AS callbackUrl, s.enabled, s.disabled_reason AS disabledReason,
              COALESCE(SUM(d.state = 'pending'), 0) AS waiting, COALESCE(SUM(d.state = 'pending' AND d.attempts > 0), 0) AS retrying,
              COALESCE(SUM(d.state = 'dead'), 0) AS dead,
              (SELECT last_status FROM deliveries l WHERE l.subscription_id = s.id AND l.state <> 'delivered' AND l.attempts > 0 ORDER BY l.id DESC LIMIT 1) AS lastStatus,
              (SELECT last_error FROM deliveries l WHERE l.subscription_id = s.id AND l.state <> 'delivered' AND l.attempts > 0 ORDER BY l.id DESC LIMIT 1) AS lastError
       FROM subscriptions s LEFT JOIN deliveries d ON d.subscription_id = s.id
       GROUP BY s.id
       HAVING s.enabled = 0 OR retrying > 0 OR dead > 0
       ORDER BY retrying DESC, dead DESC
       LIMIT ?`,
    )
    .all(LIST_LIMIT) as (Omit<FailingSubscription, "callback" | "enabled"> & { callbackUrl: string; enabled: number })[];
  return {
    available: true,
    backlog: totals.backlog,
    retrying: totals.retrying,
    dead: totals.dead,
    oldestWaitingAt: totals.oldest === null ? null : new Date(totals.oldest).toISOString(),
    failingSubscriptions: rows.map(({ callbackUrl, enabled, ...r }) => ({ ...r, callback: redactUrl(callbackUrl), enabled: enabled !== 0 })),
  };
}
