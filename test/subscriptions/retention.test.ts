/**
 * Retention of the event log and the outbox: what `pruneBefore` removes and keeps on a real
 * SQLite store, the runtime's pass at start (with an injected clock), and WatchEvents refusing
 * a resume that pruning made incomplete. Times are chosen, never waited for.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startSubscriptions } from "../../src/adapters/webhooks/index.js";
import { parseConfig } from "../../src/config/load.js";
import type { DeliveryRecord, EventRecord, EventTypeWord, NewEvent, SubscriptionStore } from "../../src/ports/subscriptions.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  EventType,
  SubscriptionService,
  type WatchEventsRequestSchema,
  type WatchEventsResponse,
} from "../../gen/scr/v1/subscription_service_pb.js";
import { SPEC_SELF, startTestGateway } from "../support/gateway.js";
import { startHarness } from "./harness.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
/** 30 days (the default) after T0 and a bit. */
const CUTOFF = T0 + 30 * DAY;

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

/** A real SQLite store from the harness, without its dispatcher: the test sets every state. */
async function quietStore(): Promise<SubscriptionStore> {
  const h = startHarness();
  running.push(h);
  await h.runtime.stop();
  return h.store.subscriptions;
}

/** The callback bodies, per type: their content does not matter here. */
const PAYLOADS: Record<EventTypeWord, { kind: string; body: Record<string, unknown> }> = {
  onRelease: { kind: "UPDATE", body: { release: SPEC_SELF.address, event: "UPDATE", organization: SPEC_SELF.address, vat: SPEC_SELF.vat } },
  onAcceptInvitation: { kind: "accepted", body: { reference: "R", status: "accepted", name: "B", vat: "NL1", address: SPEC_SELF.address, publicKey: "PEM" } },
};

let n = 0;
function event(createdAt: number, type: EventTypeWord = "onRelease"): NewEvent {
  n++;
  const { kind, body } = PAYLOADS[type];
  const txHash = `0x${String(n).padStart(64, "0")}`;
  return { eventId: `evt_retention_${n}`, type, kind, orderingKey: `key:${n}`, payload: JSON.stringify(body), blockNumber: n, txHash, logIndex: 0, createdAt };
}

function deliveryOf(store: SubscriptionStore, subscriptionId: string, e: EventRecord): DeliveryRecord {
  const d = store.listDeliveries(subscriptionId, { afterSequence: e.sequence - 1, limit: 1 })[0];
  if (d?.sequence !== e.sequence) throw new Error(`no delivery of ${e.sequence}`);
  return d;
}

/** Records one attempt of the event's delivery at `at`, with its outcome. */
function attempt(store: SubscriptionStore, subscriptionId: string, e: EventRecord, outcome: "delivered" | "retry" | "dead", at: number): void {
  const d = deliveryOf(store, subscriptionId, e);
  store.recordAttempts([
    {
      delivery: { ...d, callbackUrl: "http://127.0.0.1:9/", secret: null },
      attempt: { deliveryId: d.id, eventId: d.eventId, attempt: d.attempts + 1, startedAt: at, status: outcome === "delivered" ? 200 : 500, latencyMs: 1, error: null, outcome },
      next: outcome === "retry" ? { state: "pending", nextAttemptAt: at + DAY, firstAttemptAt: at } : { state: outcome, at },
    },
  ]);
}

describe("pruneBefore", () => {
  it("removes delivered deliveries, their attempts and done events older than the cutoff; keeps pending, dead and the newest", async () => {
    const store = await quietStore();
    store.saveSubscription({ id: "sub-a", eventType: "onRelease", callbackUrl: "http://127.0.0.1:9/a", secret: null }, T0);
    store.saveSubscription({ id: "sub-b", eventType: "onAcceptInvitation", callbackUrl: "http://127.0.0.1:9/b", secret: null }, T0);
    const [delivered, dead, pending, deliveredToo, invitation, newest] = store.appendEvents([
      event(T0),
      event(T0),
      event(T0),
      event(T0),
      event(T0, "onAcceptInvitation"),
      event(T0 + DAY),
    ]) as [EventRecord, EventRecord, EventRecord, EventRecord, EventRecord, EventRecord];
    attempt(store, "sub-a", delivered, "retry", T0 + 1_000);
    attempt(store, "sub-a", delivered, "delivered", T0 + 2_000);
    attempt(store, "sub-a", dead, "dead", T0 + 1_000);
    attempt(store, "sub-a", pending, "retry", T0 + 1_000);
    attempt(store, "sub-a", deliveredToo, "delivered", T0 + 1_000);
    attempt(store, "sub-a", newest, "delivered", T0 + DAY + 1_000);
    // The invitation's only delivery goes with its subscription.
    store.deleteSubscription("sub-b");
    const before = store.lastSequence();
    expect(before).toBe(newest.sequence);

    // Nothing is old enough yet.
    expect(store.pruneBefore(T0)).toEqual({ events: 0, deliveries: 0, attempts: 0 });

    expect(store.pruneBefore(CUTOFF)).toEqual({ events: 3, deliveries: 3, attempts: 4 });
    const kept = store.eventsAfter(0, 100).map((e) => e.sequence);
    expect(kept).toEqual([dead.sequence, pending.sequence, newest.sequence]);
    const deliveries = store.listDeliveries("sub-a", { afterSequence: 0, limit: 100 });
    expect(deliveries.map((d) => [d.sequence, d.state])).toEqual([
      [dead.sequence, "dead"],
      [pending.sequence, "pending"],
    ]);
    const attempts = store.listAttempts("sub-a", { limit: 100 });
    expect(attempts.map((a) => a.deliveryId).sort()).toEqual(deliveries.map((d) => d.id).sort());
    expect(store.lastSequence()).toBe(before);
    expect(store.prunedThrough("onRelease")).toBe(deliveredToo.sequence);
    expect(store.prunedThrough("onAcceptInvitation")).toBe(invitation.sequence);
    expect(store.prunedThrough()).toBe(invitation.sequence);

    // However old, undelivered ones stay, and the newest event too.
    expect(store.pruneBefore(T0 + 10_000 * DAY)).toEqual({ events: 0, deliveries: 0, attempts: 0 });
    expect(store.eventsAfter(0, 100).map((e) => e.sequence)).toEqual([dead.sequence, pending.sequence, newest.sequence]);
    expect(store.outboxCounts()).toMatchObject({ dead: 1, retrying: 1 });

    // A new event gets a higher sequence than any before.
    const [next] = store.appendEvents([event(CUTOFF)]);
    expect(next!.sequence).toBeGreaterThan(before);
    expect(store.lastSequence()).toBe(next!.sequence);
  });

  it("keeps an old event while a delivery of it was delivered within the retention period", async () => {
    const store = await quietStore();
    store.saveSubscription({ id: "sub-a", eventType: "onRelease", callbackUrl: "http://127.0.0.1:9/a", secret: null }, T0);
    const [late, newest] = store.appendEvents([event(T0), event(T0)]) as [EventRecord, EventRecord];
    attempt(store, "sub-a", late, "delivered", CUTOFF + 1);
    attempt(store, "sub-a", newest, "delivered", T0);
    expect(store.pruneBefore(CUTOFF)).toEqual({ events: 0, deliveries: 1, attempts: 1 });
    expect(store.eventsAfter(0, 10).map((e) => e.sequence)).toEqual([late.sequence, newest.sequence]);
  });
});

describe("the runtime", () => {
  it("prunes at start with the configured days and logs what it removed", async () => {
    const h = startHarness();
    running.push(h);
    await h.runtime.stop();
    const store = h.store.subscriptions;
    store.saveSubscription({ id: "sub-a", eventType: "onRelease", callbackUrl: "http://127.0.0.1:9/a", secret: null }, T0);
    const [old, recent] = store.appendEvents([event(T0), event(T0 + 20 * DAY)]) as [EventRecord, EventRecord];
    attempt(store, "sub-a", old, "delivered", T0);
    attempt(store, "sub-a", recent, "delivered", T0 + 20 * DAY);

    const lines: Record<string, unknown>[] = [];
    const start = (days: number) =>
      startSubscriptions({
        config: parseConfig({ subscriptions: { retention: { days } } }),
        store,
        releases: h.store,
        orgs: h.store,
        connections: h.store.connections,
        source: { onCommitted: () => () => undefined },
        wallet: { address: h.self, callbackPrivateKey: () => undefined as never, encryptionPublicKeyPem: "", unwrapKey: () => Buffer.alloc(0) },
        log: pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }),
        now: () => T0 + 31 * DAY,
      });

    // 60 days: nothing is that old, and nothing is logged.
    await start(60).stop();
    expect(store.eventsAfter(0, 10)).toHaveLength(2);
    expect(lines.filter((l) => String(l.msg).includes("retention"))).toEqual([]);

    // The default 30 days: the first event and its delivery go.
    expect(parseConfig({}).subscriptions.retention.days).toBe(30);
    await start(30).stop();
    expect(store.eventsAfter(0, 10).map((e) => e.sequence)).toEqual([recent.sequence]);
    const logged = lines.filter((l) => String(l.msg).includes("retention"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 30, events: 1, deliveries: 1, attempts: 1, days: 30 });
  });
});

describe("WatchEvents after pruning", () => {
  it("refuses a resume from a pruned sequence with failed_precondition, and accepts one still covered", async () => {
    const gw = await startTestGateway(SPEC_SELF);
    running.push(gw);
    const store = gw.store.subscriptions;
    store.saveSubscription({ id: "sub-a", eventType: "onRelease", callbackUrl: "http://127.0.0.1:9/a", secret: null }, T0);
    const [first, second, third, kept] = store.appendEvents([event(T0), event(T0), event(T0), event(T0 + 40 * DAY)]) as [
      EventRecord,
      EventRecord,
      EventRecord,
      EventRecord,
    ];
    for (const e of [first, second, third]) attempt(store, "sub-a", e, "delivered", T0);
    expect(store.pruneBefore(CUTOFF)).toMatchObject({ events: 3 });

    const client = createClient(SubscriptionService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    /** The stream's first message, or the error it ends with. */
    async function firstOf(req: MessageInitShape<typeof WatchEventsRequestSchema>, then?: () => void): Promise<WatchEventsResponse | ConnectError> {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 5_000);
      const nudge = then && setTimeout(then, 100);
      try {
        for await (const e of client.watchEvents(req, { signal: abort.signal })) return e;
        throw new Error("the stream ended");
      } catch (err) {
        return ConnectError.from(err);
      } finally {
        clearTimeout(timer);
        if (nudge) clearTimeout(nudge);
        abort.abort();
      }
    }

    const refused = await firstOf({ afterSequence: BigInt(first.sequence) });
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((refused as ConnectError).rawMessage).toContain(`oldest event kept after them is sequence ${kept.sequence}`);
    expect((refused as ConnectError).rawMessage).toContain(`after_sequence ${third.sequence}`);

    // Nothing was pruned after the third: resuming there misses nothing.
    const resumed = await firstOf({ afterSequence: BigInt(third.sequence) });
    expect(resumed).not.toBeInstanceOf(ConnectError);
    expect((resumed as WatchEventsResponse).eventId).toBe(kept.eventId);

    // No invitation event was pruned: a stream of those may resume from the first.
    const invitations = await firstOf({ afterSequence: BigInt(first.sequence), eventType: EventType.ON_ACCEPT_INVITATION }, () =>
      store.appendEvents([event(T0 + 41 * DAY, "onAcceptInvitation")]),
    );
    expect(invitations).not.toBeInstanceOf(ConnectError);
    expect((invitations as WatchEventsResponse).payload.case).toBe("invitationEvent");

    // 0 still means from now.
    const live = await firstOf({ afterSequence: 0n }, () => store.appendEvents([event(T0 + 42 * DAY)]));
    expect(live).not.toBeInstanceOf(ConnectError);
    expect((live as WatchEventsResponse).sequence).toBeGreaterThan(BigInt(kept.sequence));
  });
});
