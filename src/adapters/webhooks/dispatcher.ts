import { AsyncResource } from "node:async_hooks";
import type { KeyObject } from "node:crypto";
import type { Logger } from "pino";
import { nextRetry, parseRetryAfter, type RetryPolicy } from "../../domain/subscriptions/retry.js";
import type { AttemptResult, DueDelivery, SecretSealer, SubscriptionStore } from "../../ports/subscriptions.js";
import type { HttpSender, SendResult } from "./http-sender.js";
import { callbackBody, callbackToken, standardWebhookSignature } from "./signing.js";

export interface DispatcherOptions {
  store: Pick<SubscriptionStore, "dueDeliveries" | "nextDueAt" | "recordAttempts">;
  sender: Pick<HttpSender, "post">;
  /** The wallet's callback key (ES256). */
  signingKey: () => KeyObject;
  /** Opens the subscriptions' secrets, kept sealed at rest. */
  secrets?: SecretSealer;
  /** This organisation's address, checksummed: the JWT's issuer. */
  issuer: string;
  log: Logger;
  retry: RetryPolicy;
  concurrency: number;
  tokenLifetimeSeconds: number;
  tokenInBody: boolean;
  eventIdInBody: boolean;
  pollIntervalMs: number;
  userAgent?: string;
  now?: () => number;
  /** Called after each attempt is durable (metrics, tests). */
  onAttempt?: (r: AttemptResult) => void;
}

/**
 * Delivers the outbox. Each due delivery (the first pending one of its subscription and
 * release) is POSTed; the outcome and the attempt log entry are written together, in batches,
 * and only then is the delivery let go, so that a crash at any point means "send again" with
 * the same event id, never "forget". A 2xx is done; a 410 disables the subscription; anything
 * else is retried with back-off (or after the receiver's Retry-After) until the retry period
 * ends, and then the delivery is a dead letter.
 */
/** Finished attempts are recorded together: after this long, or once this many wait. */
const FLUSH_DELAY_MS = 2;
const FLUSH_BATCH = 64;

export class WebhookDispatcher {
  /** Deliveries in flight or whose outcome is not recorded yet: never claimed twice. */
  private readonly busy = new Set<number>();
  /** HTTP requests in flight: at most `concurrency`. */
  private sending = 0;
  private readonly results: AttemptResult[] = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  /** Aborts the requests in flight when the gateway stops. */
  private readonly stopping = new AbortController();
  private idle: (() => void)[] = [];

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.running = true;
    this.kick();
  }

  /**
   * Looks for due deliveries now (new events were indexed, a redelivery was asked for). Bound
   * to the dispatcher's own context, so a request that kicks it lends its request id to none
   * of the deliveries' log lines.
   */
  readonly kick: () => void = AsyncResource.bind(() => this.kickNow());

  private kickNow(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Stops taking new deliveries and cuts the requests in flight: like a crash, they stay
   * pending and are made again at the next start (same event id). What finished is recorded.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.flush();
  }

  /** Callbacks in flight. */
  get inFlight(): number {
    return this.sending;
  }

  private pump(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const free = this.o.concurrency - this.sending;
    if (free <= 0) return; // a completion pumps
    let due: DueDelivery[] = [];
    try {
      due = this.o.store.dueDeliveries(this.now(), free, this.busy);
    } catch (err) {
      this.o.log.error({ err }, "could not read due callbacks; trying again shortly");
    }
    for (const d of due) {
      this.busy.add(d.id);
      this.sending++;
      void this.deliver(d);
    }
    if (due.length > 0 && due.length === free) return; // more may be due: the next completion pumps
    let wait = this.o.pollIntervalMs;
    try {
      const next = this.o.store.nextDueAt();
      // A due delivery behind one in flight waits for that one's completion, which pumps.
      if (next !== undefined && next > this.now()) wait = Math.min(wait, next - this.now());
    } catch {
      // the poll interval will do
    }
    this.timer = setTimeout(() => this.pump(), Math.max(1, wait));
    this.timer.unref();
  }

  private async deliver(d: DueDelivery): Promise<void> {
    const startedAt = this.now();
    const attempt = d.attempts + 1;
    let result: SendResult;
    try {
      const token = await callbackToken(this.o.signingKey(), {
        issuer: this.o.issuer,
        eventId: d.eventId,
        lifetimeSeconds: this.o.tokenLifetimeSeconds,
        now: startedAt,
      });
      const body = callbackBody(d.payload, {
        eventId: d.eventId,
        eventIdInBody: this.o.eventIdInBody,
        token: this.o.tokenInBody ? token : undefined,
      });
      result = await this.o.sender.post(d.callbackUrl, this.headers(d, attempt, token, body, startedAt), body, this.stopping.signal);
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const end = this.now();
    this.sending--;
    if (this.stopping.signal.aborted && !result.ok) {
      // Cut by stop(): not an attempt of the receiver's; the delivery stays as it was.
      this.busy.delete(d.id);
      if (this.sending === 0) for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.results.push(this.outcome(d, attempt, startedAt, end, result));
    if (this.results.length >= FLUSH_BATCH || !this.running) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    // Claims come in groups: a slot freed waits for a few others (or for the flush).
    if (this.sending <= (this.o.concurrency * 3) / 4) this.kick();
    if (this.sending === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private headers(d: DueDelivery, attempt: number, token: string, body: string, now: number): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": this.o.userAgent ?? "scr-gateway",
      "x-scr-event-id": d.eventId,
      "x-scr-event-type": d.eventType,
      "x-scr-sequence": String(d.sequence),
      "x-scr-delivery-attempt": String(attempt),
    };
    if (!this.o.tokenInBody) h.authorization = `Bearer ${token}`;
    // The event id is the Standard Webhooks message id; with a secret the message is signed.
    h["webhook-id"] = d.eventId;
    if (d.secret) {
      const timestamp = Math.floor(now / 1000);
      h["webhook-timestamp"] = String(timestamp);
      const secret = this.o.secrets ? this.o.secrets.open(d.secret) : d.secret;
      h["webhook-signature"] = standardWebhookSignature(secret, d.eventId, timestamp, body);
    }
    return h;
  }

  private outcome(d: DueDelivery, attempt: number, startedAt: number, end: number, r: SendResult): AttemptResult {
    const base = { deliveryId: d.id, eventId: d.eventId, attempt, startedAt, latencyMs: Math.max(0, Math.round(end - startedAt)) };
    if (r.ok && r.status >= 200 && r.status < 300) {
      return { delivery: d, attempt: { ...base, status: r.status, error: null, outcome: "delivered" }, next: { state: "delivered", at: end } };
    }
    const status = r.ok ? r.status : null;
    const error = r.ok ? `HTTP ${r.status}` : r.error;
    if (status === 410) {
      return {
        delivery: d,
        attempt: { ...base, status, error, outcome: "gone" },
        next: { state: "pending", nextAttemptAt: end, firstAttemptAt: d.firstAttemptAt ?? startedAt },
        disable: `the receiver answered 410 Gone at ${new Date(end).toISOString()}`,
      };
    }
    const first = d.firstAttemptAt ?? startedAt;
    const retryAfter = r.ok ? parseRetryAfter(r.retryAfter, end) : undefined;
    const decision = nextRetry(this.o.retry, { attempts: attempt, firstAttemptAt: first, startedAt }, end, retryAfter);
    if (decision.state === "dead") {
      this.o.log.warn({ delivery: d.id, event: d.eventId, subscription: d.subscriptionId, attempts: attempt, error }, "callback given up: dead letter");
      return { delivery: d, attempt: { ...base, status, error, outcome: "dead" }, next: { state: "dead", at: end } };
    }
    return {
      delivery: d,
      attempt: { ...base, status, error, outcome: "retry" },
      next: { state: "pending", nextAttemptAt: decision.nextAttemptAt, firstAttemptAt: first },
    };
  }

  /** Writes the finished attempts in one transaction, then lets their deliveries go. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.results.length === 0) return;
    const batch = this.results.splice(0);
    try {
      this.o.store.recordAttempts(batch);
    } catch (err) {
      // Not recorded: the deliveries stay pending in the store and are sent again.
      this.o.log.error({ err, attempts: batch.length }, "could not record callback attempts; they will be made again");
    }
    for (const r of batch) {
      this.busy.delete(r.delivery.id);
      try {
        this.o.onAttempt?.(r);
      } catch {
        // a listener's problem
      }
    }
    // What was recorded may be the one a later event of the same release waited for.
    this.kick();
  }
}
