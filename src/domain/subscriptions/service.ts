import { randomUUID } from "node:crypto";
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStateWord,
  EventTypeWord,
  SecretSealer,
  SubscriptionRecord,
  SubscriptionStore,
} from "../../ports/subscriptions.js";
import { EventsPrunedError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { checkPositiveInt } from "../validation.js";
import { checkSubscription, type SubscriptionInput } from "./validation.js";

export interface SubscriptionsDeps {
  store: SubscriptionStore;
  /** Wakes the delivery worker (after a redelivery). */
  kick?: () => void;
  /** Seals secrets before they are stored. Only a gateway without a wallet (tests without a
   * chain, which deliver nothing) stores them as given. */
  secrets?: SecretSealer;
  now?: () => number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** The subscription calls: registering callbacks, and looking into their deliveries. */
export class SubscriptionsService {
  private readonly now: () => number;

  constructor(private readonly d: SubscriptionsDeps) {
    this.now = d.now ?? Date.now;
  }

  create(input: SubscriptionInput): SubscriptionRecord {
    const s = checkSubscription(input);
    const secret = s.secret !== null && this.d.secrets ? this.d.secrets.seal(s.secret) : s.secret;
    return this.d.store.saveSubscription({ id: randomUUID(), ...s, secret }, this.now());
  }

  list(): SubscriptionRecord[] {
    return this.d.store.listSubscriptions();
  }

  delete(id: string): void {
    if (!this.d.store.deleteSubscription(id)) throw new NotFoundError(`subscription ${id} not found`);
  }

  deliveries(subscriptionId: string, filter: { state?: DeliveryStateWord; afterSequence: number; limit: number }): DeliveryRecord[] {
    this.subscription(subscriptionId);
    return this.d.store.listDeliveries(subscriptionId, { ...filter, limit: limitOf(filter.limit) });
  }

  attempts(subscriptionId: string, filter: { deliveryId: string; limit: number }): AttemptRecord[] {
    this.subscription(subscriptionId);
    const deliveryId = filter.deliveryId === "" ? undefined : deliveryIdOf("delivery_id", filter.deliveryId);
    return this.d.store.listAttempts(subscriptionId, { deliveryId, limit: limitOf(filter.limit) });
  }

  /** The given deliveries, or every dead letter when none is given, are sent again. */
  redeliver(subscriptionId: string, deliveryIds: readonly string[]): DeliveryRecord[] {
    const s = this.subscription(subscriptionId);
    if (!s.enabled) {
      throw new FailedPreconditionError(`subscription ${s.id} is disabled (${s.disabledReason ?? "disabled"}); create it again to enable it`);
    }
    const ids = deliveryIds.map((id, i) => deliveryIdOf(`delivery_ids[${i}]`, id));
    const out = this.d.store.redeliver(subscriptionId, ids.length ? ids : "dead", this.now());
    if (!out) throw new NotFoundError(`not every delivery given belongs to subscription ${subscriptionId}`);
    this.d.kick?.();
    return out;
  }

  /**
   * Where an event stream starts: after `afterSequence`, or, for 0, after the newest event
   * (from now). A resume from before events that retention removed is refused.
   */
  watchFrom(afterSequence: number, type?: EventTypeWord): number {
    if (afterSequence === 0) return this.d.store.lastSequence();
    this.checkCovered(afterSequence, type);
    return afterSequence;
  }

  /** Throws EventsPrunedError when events (of `type`) after `afterSequence` were pruned. */
  checkCovered(afterSequence: number, type?: EventTypeWord): void {
    const through = this.d.store.prunedThrough(type);
    if (afterSequence >= through) return;
    throw new EventsPrunedError(afterSequence, through, this.d.store.eventsAfter(through, 1, type)[0]?.sequence);
  }

  private subscription(id: string): SubscriptionRecord {
    const s = this.d.store.findSubscription(id);
    if (!s) throw new NotFoundError(`subscription ${id} not found`);
    return s;
  }
}

function limitOf(limit: number): number {
  return limit === 0 ? DEFAULT_LIMIT : checkPositiveInt("limit", limit, MAX_LIMIT);
}

function deliveryIdOf(field: string, value: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new InvalidArgumentError(field, "must be a delivery id");
  return Number(value);
}
