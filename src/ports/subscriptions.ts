/**
 * Subscriptions (webhooks), the event log they are fed from, and the delivery of each event to
 * each subscription: the outbox. Addresses are lower case; dates are epoch milliseconds.
 */

export type EventTypeWord = "onRelease" | "onAcceptInvitation";
export type DeliveryStateWord = "pending" | "delivered" | "dead";
export type AttemptOutcomeWord = "delivered" | "retry" | "dead" | "gone";

export interface SubscriptionRecord {
  id: string;
  eventType: EventTypeWord;
  callbackUrl: string;
  /** "whsec_…" for Standard Webhooks signatures; null: none. Never shown to callers. */
  secret: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** An event about to enter the log. */
export interface NewEvent {
  /** Stable: the same whenever the same chain log is indexed again. */
  eventId: string;
  type: EventTypeWord;
  /** e.g. TRANSFER, or accepted / refused. */
  kind: string;
  /** Events with the same key are delivered in sequence order (the release, the invitation). */
  orderingKey: string;
  /** The callback body's documented keys, as JSON. */
  payload: string;
  blockNumber: number;
  txHash: string;
  logIndex: number;
  createdAt: number;
}

export interface EventRecord extends NewEvent {
  /** The position in the log: strictly increasing. */
  sequence: number;
}

export interface DeliveryRecord {
  id: number;
  subscriptionId: string;
  sequence: number;
  eventId: string;
  eventType: EventTypeWord;
  payload: string;
  state: DeliveryStateWord;
  attempts: number;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: number | null;
  /** When the current retry period began (the first attempt, or the last redelivery). */
  firstAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** A pending delivery whose turn it is, with where to send it. */
export interface DueDelivery extends DeliveryRecord {
  callbackUrl: string;
  secret: string | null;
}

export interface AttemptRecord {
  deliveryId: number;
  eventId: string;
  attempt: number;
  startedAt: number;
  /** null when no HTTP answer came. */
  status: number | null;
  latencyMs: number;
  error: string | null;
  outcome: AttemptOutcomeWord;
}

/** What an attempt changes, written in one transaction with the attempt log entry. */
export interface AttemptResult {
  delivery: DueDelivery;
  attempt: AttemptRecord;
  /** The delivery's next state. */
  next: { state: "delivered"; at: number } | { state: "pending"; nextAttemptAt: number; firstAttemptAt: number } | { state: "dead"; at: number };
  /** Set on 410 Gone: the subscription is disabled with this reason. */
  disable?: string;
}

export interface SubscriptionStore {
  /**
   * Creates the subscription, or, when one for the same event type and URL exists, enables it
   * again and sets the secret given: registering twice never doubles the callbacks.
   */
  saveSubscription(s: Pick<SubscriptionRecord, "id" | "eventType" | "callbackUrl" | "secret">, now: number): SubscriptionRecord;
  findSubscription(id: string): SubscriptionRecord | undefined;
  listSubscriptions(): SubscriptionRecord[];
  /** Removes it with its deliveries and attempt log; false when there was none. */
  deleteSubscription(id: string): boolean;

  /**
   * Appends the events not yet in the log (by event id) and, for each, a pending delivery to
   * every enabled subscription of its type. Meant to run inside the indexer's transaction.
   */
  appendEvents(events: NewEvent[]): EventRecord[];
  /** The log after `sequence`, oldest first. */
  eventsAfter(sequence: number, limit: number, type?: EventTypeWord): EventRecord[];
  /** The newest sequence number; 0 when the log is empty. */
  lastSequence(): number;
  /**
   * Retention, in one transaction: removes delivered deliveries delivered before `cutoff`
   * with their attempts, then events created before `cutoff` that no delivery points to any
   * more (all delivered and removed, or their subscriptions deleted). Pending deliveries and
   * dead letters, their events, and the newest event are kept.
   */
  pruneBefore(cutoff: number): PruneCounts;
  /** The highest sequence pruned from the log (of `type`, or of any type); 0 when none. Every
   * event after it is still there. */
  prunedThrough(type?: EventTypeWord): number;
  /** The callback backlog, for monitoring. */
  outboxCounts(): OutboxCounts;

  /**
   * Pending deliveries due at `now` of enabled subscriptions, oldest first, each the first
   * pending one of its subscription and ordering key (so an event never overtakes the one
   * before it), leaving out `busy` (in flight) and the keys of busy ones.
   */
  dueDeliveries(now: number, limit: number, busy: ReadonlySet<number>): DueDelivery[];
  /** When the earliest pending delivery of an enabled subscription is due; undefined if none. */
  nextDueAt(): number | undefined;
  /** Records attempts and their outcomes, all in one transaction. */
  recordAttempts(results: AttemptResult[]): void;

  listDeliveries(subscriptionId: string, filter: { state?: DeliveryStateWord; afterSequence: number; limit: number }): DeliveryRecord[];
  /** Newest first. */
  listAttempts(subscriptionId: string, filter: { deliveryId?: number; limit: number }): AttemptRecord[];
  /**
   * Makes the given deliveries (or, with "dead", every dead letter) of the subscription
   * pending again, due now, with a fresh retry period; returns them. Changes nothing and
   * returns undefined when a given delivery is not the subscription's.
   */
  redeliver(subscriptionId: string, which: number[] | "dead", now: number): DeliveryRecord[] | undefined;
}

/** A contract event as the indexer recorded it (`chain_events`). */
export interface ContractEvent {
  contract: string;
  name: string;
  /** The release id, account or invitation id, lower case. */
  subject: string | null;
  /** JSON; addresses as the chain gives them (checksummed). */
  args: string;
  txHash: string;
  logIndex: number;
  blockNumber: number;
}

/** Every recorded event of one release, in chain order: its ownership history. */
export interface ReleaseHistory {
  releaseEvents(release: string): ContractEvent[];
}

/** What one retention pass removed. */
export interface PruneCounts {
  events: number;
  deliveries: number;
  attempts: number;
}

/** Deliveries waiting (never tried, or failing and retried later), dead letters, and
 * subscriptions a receiver turned off (410). */
export interface OutboxCounts {
  pending: number;
  retrying: number;
  dead: number;
  disabledSubscriptions: number;
}

/**
 * Keeps callback secrets encrypted at rest with this organisation's wallet: sealed when a
 * subscription is saved, opened only to sign a callback.
 */
export interface SecretSealer {
  seal(secret: string): string;
  /** Opens what `seal` made; a secret stored before sealing existed comes back as it is. */
  open(stored: string): string;
}
