/**
 * The subscription calls over REST and RPC: the legacy body, the 400s naming the field, and
 * the additions (GET, DELETE, deliveries) on a gateway without a chain.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { NewEvent } from "../../src/ports/subscriptions.js";
import { EventType, SubscriptionService, type WatchEventsResponse } from "../../gen/scr/v1/subscription_service_pb.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF);
});
afterAll(async () => {
  await gw?.stop();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(gw.rest + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const SECRET = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");

describe("POST /subscriptions", () => {
  it("takes the spec's body and returns the subscription with its id; the secret is never shown", async () => {
    const res = await call("POST", "/subscriptions", { eventType: "onRelease", callback_url: "https://tms.example/scr/callback", secret: SECRET });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventType: "onRelease",
      callback_url: "https://tms.example/scr/callback",
      secret: null,
      createdAt: expect.any(String),
      enabled: true,
      disabledReason: null,
    });
    // Registering the same again gives the same subscription: callbacks are never doubled.
    const again = await call("POST", "/subscriptions", { eventType: "onRelease", callback_url: "https://tms.example/scr/callback" });
    expect(again.body.id).toBe(res.body.id);

    const list = await call("GET", "/subscriptions");
    expect(list.body.filter((s: { id: string }) => s.id === res.body.id)).toEqual([{ ...res.body, createdAt: expect.any(String) }]);
    expect(list.body.every((s: { secret: unknown }) => s.secret === null)).toBe(true);

    expect((await call("GET", `/subscriptions/${res.body.id}/deliveries?state=dead`)).body).toEqual([]);
    expect((await call("GET", `/subscriptions/${res.body.id}/attempts`)).body).toEqual([]);
    expect((await call("POST", `/subscriptions/${res.body.id}/redeliver`, {})).body).toEqual([]);

    expect((await call("DELETE", `/subscriptions/${res.body.id}`)).status).toBe(204);
    expect((await call("DELETE", `/subscriptions/${res.body.id}`)).status).toBe(404);
    expect((await call("GET", `/subscriptions/${res.body.id}/deliveries`)).status).toBe(404);
  });

  it("onAcceptInvitation too", async () => {
    const res = await call("POST", "/subscriptions", { eventType: "onAcceptInvitation", callback_url: "http://127.0.0.1:8080/invitations" });
    expect(res.status).toBe(200);
    expect(res.body.eventType).toBe("onAcceptInvitation");
  });

  const bad: [string, unknown, string][] = [
    ["an unknown event type", { eventType: "onTransfer", callback_url: "https://a.example/cb" }, "eventType"],
    ["no event type", { callback_url: "https://a.example/cb" }, "eventType"],
    ["a relative URL", { eventType: "onRelease", callback_url: "/callback" }, "callback_url"],
    ["an ftp URL", { eventType: "onRelease", callback_url: "ftp://a.example/cb" }, "callback_url"],
    ["no URL", { eventType: "onRelease" }, "callback_url"],
    ["a URL over 255 characters", { eventType: "onRelease", callback_url: `https://a.example/${"x".repeat(240)}` }, "callback_url"],
    ["a URL that is not a string", { eventType: "onRelease", callback_url: 42 }, "callback_url"],
    ["a secret without whsec_", { eventType: "onRelease", callback_url: "https://a.example/cb", secret: "hunter2" }, "secret"],
  ];
  for (const [what, body, field] of bad) {
    it(`${what}: 400 naming ${field}`, async () => {
      const res = await call("POST", "/subscriptions", body);
      expect(res.status).toBe(400);
      expect(res.body.description).toMatch(new RegExp(`^${field}: `));
    });
  }
});

describe("the same calls over gRPC", () => {
  it("create, list, delete, and invalid_argument naming the field", async () => {
    const client = createClient(SubscriptionService, createGrpcTransport({ baseUrl: gw.url }));
    const created = await client.createSubscription({ subscription: { eventType: EventType.ON_RELEASE, callbackUrl: "http://127.0.0.1:9000/rpc" } });
    expect(created.subscription?.id).toMatch(/^[0-9a-f-]{36}$/);
    const list = await client.listSubscriptions({});
    expect(list.subscriptions.map((s) => s.id)).toContain(created.subscription!.id);
    await client.deleteSubscription({ id: created.subscription!.id });

    const err = await client.createSubscription({ subscription: { eventType: EventType.ON_RELEASE, callbackUrl: "not a url" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/^callback_url: /);
    const noType = await client.createSubscription({ subscription: { callbackUrl: "https://a.example/cb" } }).catch((e: unknown) => e);
    expect((noType as ConnectError).rawMessage).toMatch(/^eventType: /);
    const gone = await client.deleteSubscription({ id: created.subscription!.id }).catch((e: unknown) => e);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("WatchEvents", () => {
  it("filters by event type, resumes after a sequence, then follows live (Connect)", async () => {
    const event = (i: number, type: NewEvent["type"]): NewEvent => ({
      eventId: `evt_test_${i}`,
      type,
      kind: type === "onRelease" ? "UPDATE" : "accepted",
      orderingKey: `k${i}`,
      payload:
        type === "onRelease"
          ? JSON.stringify({ release: SPEC_SELF.address, event: "UPDATE", organization: SPEC_SELF.address, vat: SPEC_SELF.vat })
          : JSON.stringify({ reference: "R", status: "accepted", name: "B", vat: "NL1", address: SPEC_SELF.address, publicKey: "PEM" }),
      blockNumber: i,
      txHash: `0x${String(i).padStart(64, "0")}`,
      logIndex: 0,
      createdAt: Date.now(),
    });
    const log = gw.store.subscriptions;
    const [first] = log.appendEvents([event(1, "onRelease"), event(2, "onAcceptInvitation"), event(3, "onRelease")]);
    const client = createClient(SubscriptionService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    const got: WatchEventsResponse[] = [];
    const abort = new AbortController();
    const reading = (async () => {
      try {
        for await (const e of client.watchEvents({ afterSequence: BigInt(first!.sequence), eventType: EventType.ON_RELEASE }, { signal: abort.signal })) got.push(e);
      } catch {
        // aborted
      }
    })();
    const deadline = Date.now() + 5_000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    log.appendEvents([event(4, "onAcceptInvitation"), event(5, "onRelease")]);
    gw.ctx.subscriptions?.kick();
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await reading;
    expect(got.map((e) => e.eventId)).toEqual(["evt_test_3", "evt_test_5"]);
    expect(got[0]!.sequence).toBe(BigInt(first!.sequence + 2));
    expect(got[0]!.payload).toMatchObject({ case: "releaseEvent", value: { release: SPEC_SELF.address, vat: SPEC_SELF.vat } });
  });
});
