import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type {
  OutboxCounts,
  AttemptRecord,
  AttemptResult,
  ContractEvent,
  DeliveryRecord,
  DeliveryStateWord,
  DueDelivery,
  EventRecord,
  EventTypeWord,
  NewEvent,
  PruneCounts,
  ReleaseHistory,
  SubscriptionRecord,
  SubscriptionStore,
} from "../../../ports/subscriptions.js";
import type { Db } from "./open.js";
import { deliveries, deliveryAttempts, eventLog, eventLogPruned, subscriptions } from "./schema.js";

const deliveryColumns = {
  id: deliveries.id,
  subscriptionId: deliveries.subscriptionId,
  sequence: deliveries.sequence,
  eventId: eventLog.eventId,
  eventType: eventLog.type,
  payload: eventLog.payload,
  state: deliveries.state,
  attempts: deliveries.attempts,
  nextAttemptAt: deliveries.nextAttemptAt,
  firstAttemptAt: deliveries.firstAttemptAt,
  lastStatus: deliveries.lastStatus,
  lastError: deliveries.lastError,
  createdAt: deliveries.createdAt,
  deliveredAt: deliveries.deliveredAt,
};

const eventColumns = {
  sequence: eventLog.sequence,
  eventId: eventLog.eventId,
  type: eventLog.type,
  kind: eventLog.kind,
  orderingKey: eventLog.orderingKey,
  payload: eventLog.payload,
  blockNumber: eventLog.blockNumber,
  txHash: eventLog.txHash,
  logIndex: eventLog.logIndex,
  createdAt: eventLog.createdAt,
};

/**
 * The subscriptions, the event log and the outbox in SQLite, on the store's connection: the
 * event log is appended inside the indexer's transaction. It also reads `chain_events` for
 * the ownership history of a release.
 */
export class SubscriptionRepository implements SubscriptionStore, ReleaseHistory {
  private readonly insertEvent;
  private readonly fanOut;
  private readonly due;
  private readonly history;
  private readonly nextDue;
  private readonly insertAttempt;
  private readonly settle;
  private readonly disable;
  private readonly prune;

  constructor(private readonly db: Db) {
    const client = db.$client;
    this.insertEvent = client.prepare(
      `INSERT INTO event_log (event_id, type, kind, ordering_key, payload, block_number, tx_hash, log_index, created_at)
       VALUES (@eventId, @type, @kind, @orderingKey, @payload, @blockNumber, @txHash, @logIndex, @createdAt)
       ON CONFLICT (event_id) DO NOTHING RETURNING sequence`,
    );
    this.fanOut = client.prepare(
      `INSERT INTO deliveries (subscription_id, sequence, ordering_key, state, next_attempt_at, created_at)
       SELECT id, @sequence, @orderingKey, 'pending', @createdAt, @createdAt FROM subscriptions
       WHERE event_type = @type AND enabled = 1`,
    );
    // The first pending delivery of each (subscription, ordering key) that is due: an event
    // never overtakes the one before it for the same release.
    this.due = client.prepare(
      `SELECT d.id, d.subscription_id AS subscriptionId, d.sequence, e.event_id AS eventId, e.type AS eventType,
              e.payload, d.state, d.attempts, d.next_attempt_at AS nextAttemptAt, d.first_attempt_at AS firstAttemptAt,
              d.last_status AS lastStatus, d.last_error AS lastError, d.created_at AS createdAt, d.delivered_at AS deliveredAt,
              s.callback_url AS callbackUrl, s.secret
       FROM deliveries d
       JOIN subscriptions s ON s.id = d.subscription_id AND s.enabled = 1
       JOIN event_log e ON e.sequence = d.sequence
       WHERE d.state = 'pending' AND d.next_attempt_at <= @now
         AND NOT EXISTS (SELECT 1 FROM deliveries p
                         WHERE p.subscription_id = d.subscription_id AND p.ordering_key = d.ordering_key
                           AND p.state = 'pending' AND p.sequence < d.sequence)
       ORDER BY d.next_attempt_at, d.id
       LIMIT @limit`,
    );
    this.nextDue = client.prepare(
      `SELECT min(d.next_attempt_at) AS at FROM deliveries d
       JOIN subscriptions s ON s.id = d.subscription_id AND s.enabled = 1
       WHERE d.state = 'pending'`,
    );
    this.insertAttempt = client.prepare(
      `INSERT INTO delivery_attempts (delivery_id, subscription_id, event_id, attempt, started_at, status, latency_ms, error, outcome)
       VALUES (@deliveryId, @subscriptionId, @eventId, @attempt, @startedAt, @status, @latencyMs, @error, @outcome)`,
    );
    this.settle = client.prepare(
      `UPDATE deliveries SET state = @state, attempts = @attempts, last_status = @lastStatus, last_error = @lastError,
              next_attempt_at = @nextAttemptAt, first_attempt_at = coalesce(@firstAttemptAt, first_attempt_at),
              delivered_at = @deliveredAt
       WHERE id = @id AND state = 'pending'`,
    );
    this.disable = client.prepare(
      `UPDATE subscriptions SET enabled = 0, disabled_reason = @reason, updated_at = @at WHERE id = @id`,
    );
    this.prune = prepareRetention(client);
    // The release's own events from chain_events, which the indexer keeps on this connection.
    this.history = client.prepare(
      `SELECT contract, name, subject, args, tx_hash AS txHash, log_index AS logIndex, block_number AS blockNumber
       FROM chain_events WHERE subject = ? AND contract = 'releaseRegistry' ORDER BY block_number, log_index`,
    );
  }

  // ------------------------------------------------------------------------------ subscriptions

  saveSubscription(s: Pick<SubscriptionRecord, "id" | "eventType" | "callbackUrl" | "secret">, now: number): SubscriptionRecord {
    return this.db
      .insert(subscriptions)
      .values({ ...s, enabled: true, disabledReason: null, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [subscriptions.eventType, subscriptions.callbackUrl],
        set: { secret: s.secret, enabled: true, disabledReason: null, updatedAt: now },
      })
      .returning()
      .get() as SubscriptionRecord;
  }

  findSubscription(id: string): SubscriptionRecord | undefined {
    return this.db.select().from(subscriptions).where(eq(subscriptions.id, id)).get() as SubscriptionRecord | undefined;
  }

  listSubscriptions(): SubscriptionRecord[] {
    return this.db.select().from(subscriptions).orderBy(asc(subscriptions.createdAt), asc(subscriptions.id)).all() as SubscriptionRecord[];
  }

  deleteSubscription(id: string): boolean {
    return this.db.delete(subscriptions).where(eq(subscriptions.id, id)).run().changes > 0;
  }

  // ------------------------------------------------------------------------------ event log

  appendEvents(events: NewEvent[]): EventRecord[] {
    const out: EventRecord[] = [];
    for (const e of events) {
      const row = this.insertEvent.get(e) as { sequence: number } | undefined;
      if (!row) continue; // already in the log: the range was applied before
      this.fanOut.run({ sequence: row.sequence, orderingKey: e.orderingKey, createdAt: e.createdAt, type: e.type });
      out.push({ ...e, sequence: row.sequence });
    }
    return out;
  }

  eventsAfter(sequence: number, limit: number, type?: EventTypeWord): EventRecord[] {
    return this.db
      .select(eventColumns)
      .from(eventLog)
      .where(and(gt(eventLog.sequence, sequence), type ? eq(eventLog.type, type) : undefined))
      .orderBy(asc(eventLog.sequence))
      .limit(limit)
      .all() as EventRecord[];
  }

  outboxCounts(): OutboxCounts {
    const row = this.db
      .select({
        pending: sql<number>`coalesce(sum(${deliveries.state} = 'pending' and ${deliveries.attempts} = 0), 0)`,
        retrying: sql<number>`coalesce(sum(${deliveries.state} = 'pending' and ${deliveries.attempts} > 0), 0)`,
        dead: sql<number>`coalesce(sum(${deliveries.state} = 'dead'), 0)`,
      })
      .from(deliveries)
      .get();
    const disabled = this.db.select({ n: sql<number>`count(*)` }).from(subscriptions).where(eq(subscriptions.enabled, false)).get();
    return { pending: row?.pending ?? 0, retrying: row?.retrying ?? 0, dead: row?.dead ?? 0, disabledSubscriptions: disabled?.n ?? 0 };
  }

  lastSequence(): number {
    return this.db.select({ max: sql<number | null>`max(${eventLog.sequence})` }).from(eventLog).get()?.max ?? 0;
  }

  pruneBefore(cutoff: number): PruneCounts {
    return this.prune(cutoff);
  }

  prunedThrough(type?: EventTypeWord): number {
    return (
      this.db
        .select({ max: sql<number | null>`max(${eventLogPruned.sequence})` })
        .from(eventLogPruned)
        .where(type ? eq(eventLogPruned.type, type) : undefined)
        .get()?.max ?? 0
    );
  }

  releaseEvents(release: string): ContractEvent[] {
    return this.history.all(release.toLowerCase()) as ContractEvent[];
  }

  // ------------------------------------------------------------------------------ delivery

  dueDeliveries(now: number, limit: number, busy: ReadonlySet<number>): DueDelivery[] {
    if (limit <= 0) return [];
    const rows = this.due.all({ now, limit: limit + busy.size }) as DueDelivery[];
    return rows.filter((r) => !busy.has(r.id)).slice(0, limit);
  }

  nextDueAt(): number | undefined {
    const row = this.nextDue.get() as { at: number | null };
    return row.at ?? undefined;
  }

  /**
   * One transaction for many attempts, committed without waiting for the disk (WAL with
   * synchronous=NORMAL): a process crash loses nothing, and what a power cut could lose is at
   * most the latest "delivered" marks, which means sending those callbacks again with the
   * same event id — the at-least-once promise — while an fsync per batch of callbacks would
   * bound delivery at the disk's flush rate. Events themselves are written by the indexer's
   * transaction with the connection's full durability.
   */
  recordAttempts(results: AttemptResult[]): void {
    if (results.length === 0) return;
    const client = this.db.$client;
    const synchronous = client.pragma("synchronous", { simple: true }) as number;
    client.pragma("synchronous = NORMAL");
    try {
      this.recordAttemptsTx(results);
    } finally {
      client.pragma(`synchronous = ${synchronous}`);
    }
  }

  private recordAttemptsTx(results: AttemptResult[]): void {
    this.db.$client.transaction(() => {
      for (const r of results) {
        const { attempt, next } = r;
        this.insertAttempt.run({ ...attempt, subscriptionId: r.delivery.subscriptionId });
        // Only a pending row moves: a redelivery or a delete meanwhile wins.
        this.settle.run({
          id: attempt.deliveryId,
          state: next.state,
          attempts: attempt.attempt,
          lastStatus: attempt.status,
          lastError: attempt.error,
          nextAttemptAt: next.state === "pending" ? next.nextAttemptAt : null,
          firstAttemptAt: next.state === "pending" ? next.firstAttemptAt : null,
          deliveredAt: next.state === "delivered" ? next.at : null,
        });
        if (r.disable) this.disable.run({ id: r.delivery.subscriptionId, reason: r.disable, at: attempt.startedAt + attempt.latencyMs });
      }
    })();
  }

  listDeliveries(subscriptionId: string, filter: { state?: DeliveryStateWord; afterSequence: number; limit: number }): DeliveryRecord[] {
    return this.db
      .select(deliveryColumns)
      .from(deliveries)
      .innerJoin(eventLog, eq(eventLog.sequence, deliveries.sequence))
      .where(
        and(
          eq(deliveries.subscriptionId, subscriptionId),
          filter.state ? eq(deliveries.state, filter.state) : undefined,
          gt(deliveries.sequence, filter.afterSequence),
        ),
      )
      .orderBy(asc(deliveries.sequence))
      .limit(filter.limit)
      .all() as DeliveryRecord[];
  }

  listAttempts(subscriptionId: string, filter: { deliveryId?: number; limit: number }): AttemptRecord[] {
    return this.db
      .select({
        deliveryId: deliveryAttempts.deliveryId,
        eventId: deliveryAttempts.eventId,
        attempt: deliveryAttempts.attempt,
        startedAt: deliveryAttempts.startedAt,
        status: deliveryAttempts.status,
        latencyMs: deliveryAttempts.latencyMs,
        error: deliveryAttempts.error,
        outcome: deliveryAttempts.outcome,
      })
      .from(deliveryAttempts)
      .where(
        and(
          eq(deliveryAttempts.subscriptionId, subscriptionId),
          filter.deliveryId !== undefined ? eq(deliveryAttempts.deliveryId, filter.deliveryId) : undefined,
        ),
      )
      .orderBy(desc(deliveryAttempts.id))
      .limit(filter.limit)
      .all() as AttemptRecord[];
  }

  redeliver(subscriptionId: string, which: number[] | "dead", now: number): DeliveryRecord[] | undefined {
    return this.db.$client.transaction(() => {
      const mine = eq(deliveries.subscriptionId, subscriptionId);
      const where = which === "dead" ? and(mine, eq(deliveries.state, "dead")) : and(mine, inArray(deliveries.id, which));
      const ids = this.db.select({ id: deliveries.id }).from(deliveries).where(where).all().map((r) => r.id);
      if (which !== "dead" && ids.length !== new Set(which).size) return undefined;
      if (ids.length === 0) return [];
      this.db
        .update(deliveries)
        .set({ state: "pending", nextAttemptAt: now, firstAttemptAt: null, deliveredAt: null })
        .where(inArray(deliveries.id, ids))
        .run();
      return this.db
        .select(deliveryColumns)
        .from(deliveries)
        .innerJoin(eventLog, eq(eventLog.sequence, deliveries.sequence))
        .where(inArray(deliveries.id, ids))
        .orderBy(asc(deliveries.sequence))
        .all() as DeliveryRecord[];
    })();
  }
}

/**
 * Retention's statements, each on an index: deliveries by (state, delivered_at), attempts by
 * delivery, events by created_at, and whether a delivery still points to an event by
 * deliveries(sequence) (which also serves the foreign key check of the event delete).
 */
function prepareRetention(client: Db["$client"]): (cutoff: number) => PruneCounts {
  const attempts = client.prepare(
    `DELETE FROM delivery_attempts WHERE delivery_id IN
       (SELECT id FROM deliveries WHERE state = 'delivered' AND delivered_at < @cutoff)`,
  );
  const delivered = client.prepare(`DELETE FROM deliveries WHERE state = 'delivered' AND delivered_at < @cutoff`);
  // The newest event stays, so that lastSequence() never goes back (AUTOINCREMENT already
  // never hands out a sequence again).
  const prunable = `FROM event_log WHERE created_at < @cutoff
       AND sequence < (SELECT max(sequence) FROM event_log)
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.sequence = event_log.sequence)`;
  const highest = client.prepare(`SELECT type, max(sequence) AS sequence ${prunable} GROUP BY type`);
  const events = client.prepare(`DELETE ${prunable}`);
  const mark = client.prepare(
    `INSERT INTO event_log_pruned (type, sequence) VALUES (@type, @sequence)
     ON CONFLICT (type) DO UPDATE SET sequence = max(sequence, excluded.sequence)`,
  );
  return client.transaction((cutoff: number): PruneCounts => {
    const a = attempts.run({ cutoff }).changes;
    const d = delivered.run({ cutoff }).changes;
    for (const row of highest.all({ cutoff }) as { type: string; sequence: number }[]) mark.run(row);
    const e = events.run({ cutoff }).changes;
    return { events: e, deliveries: d, attempts: a };
  });
}
