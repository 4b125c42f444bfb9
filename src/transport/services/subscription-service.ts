import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { WalletSecretSealer } from "../../adapters/crypto/wallet-secret-sealer.js";
import { EventFeed } from "../../domain/subscriptions/feed.js";
import type { InvitationPayload, ReleasePayload } from "../../domain/subscriptions/events.js";
import { SubscriptionsService } from "../../domain/subscriptions/service.js";
import type {
  AttemptOutcomeWord,
  AttemptRecord,
  DeliveryRecord,
  DeliveryStateWord,
  EventRecord,
  EventTypeWord,
  SubscriptionRecord,
} from "../../ports/subscriptions.js";
import { enumMap } from "./enum-map.js";
import {
  AttemptOutcome,
  DeliveryState,
  EventType,
  ReleaseEventKind,
  SubscriptionService,
  type DeliveryAttemptSchema,
  type DeliverySchema,
  type SubscriptionSchema,
  type WatchEventsRequest,
  type WatchEventsResponseSchema,
} from "../../../gen/scr/v1/subscription_service_pb.js";

const EVENT_TYPES = enumMap<EventTypeWord, EventType>({
  onRelease: EventType.ON_RELEASE,
  onAcceptInvitation: EventType.ON_ACCEPT_INVITATION,
});
const STATES = enumMap<DeliveryStateWord, DeliveryState>({
  pending: DeliveryState.PENDING,
  delivered: DeliveryState.DELIVERED,
  dead: DeliveryState.DEAD,
});
const OUTCOMES = enumMap<AttemptOutcomeWord, AttemptOutcome>({
  delivered: AttemptOutcome.DELIVERED,
  retry: AttemptOutcome.RETRY,
  dead: AttemptOutcome.DEAD,
  gone: AttemptOutcome.GONE,
});
const KINDS = enumMap<ReleasePayload["event"], ReleaseEventKind>({
  TRANSFER: ReleaseEventKind.TRANSFER,
  UPDATE: ReleaseEventKind.UPDATE,
  BLOCK: ReleaseEventKind.BLOCK,
  UNBLOCK: ReleaseEventKind.UNBLOCK,
  DELETE: ReleaseEventKind.DELETE,
  REVOKE: ReleaseEventKind.REVOKE,
  GREENLIGHTS: ReleaseEventKind.GREENLIGHTS,
});

const time = (ms: number) => timestampFromDate(new Date(ms));

function subscriptionToProto(s: SubscriptionRecord): MessageInitShape<typeof SubscriptionSchema> {
  return {
    id: s.id,
    eventType: EVENT_TYPES.toProto(s.eventType),
    callbackUrl: s.callbackUrl,
    createdAt: time(s.createdAt),
    enabled: s.enabled,
    disabledReason: s.disabledReason ?? undefined,
  };
}

function deliveryToProto(d: DeliveryRecord): MessageInitShape<typeof DeliverySchema> {
  return {
    id: String(d.id),
    subscriptionId: d.subscriptionId,
    sequence: BigInt(d.sequence),
    eventId: d.eventId,
    state: STATES.toProto(d.state),
    attempts: d.attempts,
    nextAttemptAt: d.state === "pending" && d.nextAttemptAt !== null ? time(d.nextAttemptAt) : undefined,
    lastStatus: d.lastStatus ?? undefined,
    lastError: d.lastError ?? undefined,
    createdAt: time(d.createdAt),
    deliveredAt: d.deliveredAt !== null ? time(d.deliveredAt) : undefined,
    payload: d.payload,
  };
}

function attemptToProto(a: AttemptRecord): MessageInitShape<typeof DeliveryAttemptSchema> {
  return {
    deliveryId: String(a.deliveryId),
    eventId: a.eventId,
    attempt: a.attempt,
    startedAt: time(a.startedAt),
    status: a.status ?? undefined,
    latencyMs: a.latencyMs,
    error: a.error ?? undefined,
    outcome: OUTCOMES.toProto(a.outcome),
  };
}

export function eventToProto(e: EventRecord): MessageInitShape<typeof WatchEventsResponseSchema> {
  const base = { sequence: BigInt(e.sequence), eventId: e.eventId };
  if (e.type === "onRelease") {
    const p = JSON.parse(e.payload) as ReleasePayload;
    return { ...base, payload: { case: "releaseEvent", value: { ...p, event: KINDS.toProto(p.event) } } };
  }
  const p = JSON.parse(e.payload) as InvitationPayload;
  return { ...base, payload: { case: "invitationEvent", value: { ...p, reference: p.reference ?? undefined } } };
}

/** Events read from the log per step of a stream. */
const PAGE = 500;
/** A stream re-reads the log at least this often, even without a wake-up. */
const STREAM_POLL_MS = 1_000;

/** SubscriptionService over the domain; WatchEvents tails the event log. */
export function subscriptionService(ctx: AppContext): Partial<ServiceImpl<typeof SubscriptionService>> {
  const store = ctx.store.subscriptions;
  const secrets = ctx.chain ? new WalletSecretSealer(ctx.chain.wallet) : undefined;
  const domain = new SubscriptionsService({ store, kick: () => ctx.subscriptions?.kick(), secrets });
  const feed = ctx.subscriptions?.feed ?? new EventFeed();
  return {
    createSubscription(req) {
      const s = req.subscription;
      const created = domain.create({
        eventType: s ? EVENT_TYPES.fromProto(s.eventType) : undefined,
        callbackUrl: s?.callbackUrl ?? "",
        secret: s?.secret,
      });
      return { subscription: subscriptionToProto(created) };
    },
    listSubscriptions() {
      return { subscriptions: domain.list().map(subscriptionToProto) };
    },
    deleteSubscription(req) {
      domain.delete(req.id);
      return {};
    },
    listDeliveries(req) {
      const list = domain.deliveries(req.subscriptionId, {
        state: STATES.fromProto(req.state),
        afterSequence: Number(req.afterSequence),
        limit: req.limit,
      });
      return { deliveries: list.map(deliveryToProto) };
    },
    listDeliveryAttempts(req) {
      return { attempts: domain.attempts(req.subscriptionId, { deliveryId: req.deliveryId, limit: req.limit }).map(attemptToProto) };
    },
    redeliverDeliveries(req) {
      return { deliveries: domain.redeliver(req.subscriptionId, req.deliveryIds).map(deliveryToProto) };
    },
    async *watchEvents(req, call) {
      // A domain error while streaming is mapped by the RPC error interceptor, as any other.
      yield* watch(req, call.signal);
    },
  };

  async function* watch(req: WatchEventsRequest, signal: AbortSignal) {
    const type = EVENT_TYPES.fromProto(req.eventType);
    // 0: from now. Otherwise refused (failed_precondition) when retention removed events
    // after it, rather than silently skipping them.
    let after = domain.watchFrom(Number(req.afterSequence), type);
    while (!signal.aborted) {
      const seen = feed.version;
      // A stream far behind may have been overtaken by retention while it was reading.
      domain.checkCovered(after, type);
      const tail = store.lastSequence();
      const rows = store.eventsAfter(after, PAGE, type);
      for (const row of rows) {
        yield eventToProto(row);
        after = row.sequence;
      }
      if (rows.length < PAGE) {
        // Every event up to the tail was read (the log is read in one synchronous step and
        // new events get higher sequences): a filtered stream is not behind the others.
        after = Math.max(after, tail);
        await feed.wait(seen, STREAM_POLL_MS, signal);
      }
    }
  }
}
