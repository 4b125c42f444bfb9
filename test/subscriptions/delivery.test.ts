/**
 * The outbox and its delivery against a real HTTP receiver on 127.0.0.1, with a real SQLite
 * store, fed with synthetic committed ranges (no chain: see e2e.test.ts for the real thing).
 */
import { createPublicKey, verify } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/load.js";
import { Receiver, type Received } from "./receiver.js";
import { eventually, randomAddress, startHarness, type Harness } from "./harness.js";

const FAST: ConfigInput = {
  subscriptions: {
    retry: { initialDelayMs: 20, multiplier: 2, maxDelayMs: 200, jitter: 0.3, giveUpAfterMs: 120_000 },
    pollIntervalMs: 50,
  },
};

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function setup(config: ConfigInput = FAST): Promise<{ h: Harness; rx: Receiver }> {
  const h = startHarness(config);
  running.push(h);
  const rx = await Receiver.start();
  running.push(rx);
  return { h, rx };
}

/** Verifies an ES256 JWT with node:crypto alone (not the library that signed it). */
function verifyJwt(token: string, pem: string): Record<string, unknown> {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const ok = verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: createPublicKey(pem), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!ok) throw new Error("bad signature");
  expect(JSON.parse(Buffer.from(header, "base64url").toString())).toMatchObject({ alg: "ES256" });
  return JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
}

const eventsOf = (rx: Receiver) => rx.delivered().map((r) => `${r.body.release}:${r.body.event}`);

describe("who is notified, and with what", () => {
  it("reports transfers to and by this organisation, changes while it is in the chain, and a revoke that cut it out", async () => {
    const { h, rx } = await setup({ ...FAST, subscriptions: { ...FAST.subscriptions, eventIdInBody: false } });
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const carrier = randomAddress();
    const transporter = randomAddress();
    const other = randomAddress();
    const [r1, r2, r3] = [randomAddress(), randomAddress(), randomAddress()];
    const c = h.chain;
    h.commit([
      c.created(r1, carrier),
      c.transferred(r1, carrier, h.self), // TRANSFER: to this organisation
      c.simple("ReleaseUpdated", r1), // UPDATE
      c.transferred(r1, h.self, transporter), // TRANSFER: made by this organisation
      c.simple("GreenLightsUpdated", r1), // GREENLIGHTS
      c.simple("ReleaseBlocked", r1), // BLOCK
    ]);
    h.commit([
      c.revoked(r1, carrier, transporter), // REVOKE: cuts this organisation out
      c.simple("ReleaseUnblocked", r1), // no longer in the chain: nothing
      // This organisation as the creator: its own update is not reported back, its transfer is.
      c.created(r2, h.self),
      c.simple("ReleaseUpdated", r2),
      c.transferred(r2, h.self, other),
      // Not a party at all.
      c.created(r3, carrier),
      c.transferred(r3, carrier, other),
      c.simple("ReleaseDeleted", r3),
    ]);
    await eventually("7 callbacks", () => (rx.delivered().length >= 7 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    // In order per release; releases do not wait for each other.
    expect(eventsOf(rx).filter((e) => e.startsWith(r1))).toEqual([
      `${r1}:TRANSFER`,
      `${r1}:UPDATE`,
      `${r1}:TRANSFER`,
      `${r1}:GREENLIGHTS`,
      `${r1}:BLOCK`,
      `${r1}:REVOKE`,
    ]);
    expect(eventsOf(rx).filter((e) => !e.startsWith(r1))).toEqual([`${r2}:TRANSFER`]);
    // Exactly the spec's keys, the event in upper case, this organisation's address and VAT.
    const first = rx.delivered().find((x) => x.body.release === r1)!;
    expect(first.body).toStrictEqual({ release: r1, event: "TRANSFER", organization: h.self, vat: h.vat });
    expect(first.raw).toBe(JSON.stringify({ release: r1, event: "TRANSFER", organization: h.self, vat: h.vat }));
  });

  it("a revoke by the first owner reaches every organisation in the chain, the ones cut out included", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const [carrier, forwarder] = [randomAddress(), randomAddress()];
    const release = randomAddress();
    const c = h.chain;
    // carrier → forwarder → this organisation (last): the carrier revokes, cutting both out.
    h.commit([c.created(release, carrier), c.transferred(release, carrier, forwarder)]);
    h.commit([c.transferred(release, forwarder, h.self)]);
    h.commit([c.revoked(release, carrier, h.self)]);
    await eventually("transfer and revoke", () => (rx.delivered().length >= 2 ? true : undefined));
    expect(eventsOf(rx)).toEqual([`${release}:TRANSFER`, `${release}:REVOKE`]);
  });

  it("onAcceptInvitation: the reference, the status and the organisation as a connections entry", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onAcceptInvitation", callbackUrl: rx.url, secret: undefined });
    h.service.create({ eventType: "onRelease", callbackUrl: `${rx.url}?release`, secret: undefined });
    const other = randomAddress();
    h.store.upsertOrganization({ address: other.toLowerCase(), name: "Transporter B", vat: "NL000000102B01", role: "transporter", publicKey: "PEM-B" });
    const id = "0x" + "ab".repeat(32);
    h.store.connections.upsertInvitation({
      id,
      inviter: h.self.toLowerCase(),
      invitee: other.toLowerCase(),
      vat: "NL000000102B01",
      name: "B",
      contactEmail: "b@example.org",
      status: "accepted",
      direction: "outgoing",
      reference: "CUST-42",
      createdAt: 1,
      updatedAt: 2,
    });
    const id2 = "0x" + "cd".repeat(32);
    h.commit([h.chain.answered("InvitationAccepted", id, h.self, other), h.chain.answered("InvitationRefused", id2, h.self, other)]);
    // An invitation someone else sent is not this organisation's business.
    h.commit([h.chain.answered("InvitationAccepted", "0x" + "ef".repeat(32), other, h.self)]);
    await eventually("two answers", () => (rx.delivered().length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    const bodies = rx.delivered().map((r) => {
      const { eventId, ...rest } = r.body as Record<string, unknown>;
      expect(eventId).toBe(r.headers["webhook-id"]);
      return rest;
    });
    expect(bodies).toEqual([
      { reference: "CUST-42", status: "accepted", name: "Transporter B", vat: "NL000000102B01", address: other, publicKey: "PEM-B" },
      { reference: null, status: "refused", name: "Transporter B", vat: "NL000000102B01", address: other, publicKey: "PEM-B" },
    ]);
    expect(rx.received.every((r) => r.headers["x-scr-event-type"] === "onAcceptInvitation")).toBe(true);
  });
});

describe("delivery that loses nothing", () => {
  it("receiver outage: 503, then connection refused, while 200 events happen; all 200 arrive, in order per release", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const carrier = randomAddress();
    const releases = Array.from({ length: 10 }, () => randomAddress());
    rx.behaviour = { status: 503 };
    const c = h.chain;
    h.commit(releases.flatMap((r) => [c.created(r, carrier), c.transferred(r, carrier, h.self)])); // 10 TRANSFERs
    await eventually("some 503s", () => (rx.received.length >= 5 ? true : undefined));
    // 190 more while the receiver answers 503, then while it refuses connections.
    const kinds = ["ReleaseBlocked", "ReleaseUnblocked", "ReleaseUpdated", "GreenLightsUpdated"];
    for (let round = 0; round < 19; round++) {
      if (round === 8) await rx.down();
      h.commit(releases.map((r) => c.simple(kinds[round % kinds.length] as string, r)));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.delivered()).toHaveLength(0);
    rx.behaviour = { status: 200 };
    await rx.up();
    await eventually("200 delivered", () => (rx.delivered().length >= 200 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const delivered = rx.delivered();
    expect(delivered).toHaveLength(200);
    expect(new Set(delivered.map((r) => r.body.eventId)).size).toBe(200);
    const expected = () => ["TRANSFER", ...Array.from({ length: 19 }, (_, i) => ({ ReleaseBlocked: "BLOCK", ReleaseUnblocked: "UNBLOCK", ReleaseUpdated: "UPDATE", GreenLightsUpdated: "GREENLIGHTS" })[kinds[i % 4] as string])];
    for (const r of releases) {
      const mine = delivered.filter((d) => d.body.release === r);
      expect(mine.map((d) => d.body.event)).toEqual(expected());
      const seqs = mine.map((d) => Number(d.headers["x-scr-sequence"]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // The attempt log has both kinds of failure, with their status and latency.
    const sub = h.service.list()[0]!;
    const attempts = h.service.attempts(sub.id, { deliveryId: "", limit: 1000 });
    expect(attempts.some((a) => a.status === 503 && a.error === "HTTP 503" && a.outcome === "retry")).toBe(true);
    expect(attempts.some((a) => a.status === null && a.error === "connection refused")).toBe(true);
    expect(attempts.filter((a) => a.outcome === "delivered")).toHaveLength(200);
    expect(attempts.every((a) => Number.isInteger(a.latencyMs) && a.latencyMs >= 0)).toBe(true);
    expect(h.service.deliveries(sub.id, { state: "pending", afterSequence: 0, limit: 1000 })).toEqual([]);
  });

  it("an event waits for the one before it on the same release; other releases go on", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const [a, b, carrier] = [randomAddress(), randomAddress(), randomAddress()];
    let failures = 0;
    rx.behaviour = (_req, raw) => {
      const body = JSON.parse(raw) as { release: string; event: string };
      if (body.release === a && body.event === "TRANSFER" && failures < 4) {
        failures++;
        return { status: 500 };
      }
      return { status: 200 };
    };
    const c = h.chain;
    h.commit([c.created(a, carrier), c.transferred(a, carrier, h.self), c.created(b, carrier), c.transferred(b, carrier, h.self)]);
    h.commit([c.simple("ReleaseBlocked", a), c.simple("ReleaseBlocked", b)]);
    await eventually("all four", () => (rx.delivered().length >= 4 ? true : undefined));
    const order = eventsOf(rx);
    expect(order.filter((e) => e.startsWith(a))).toEqual([`${a}:TRANSFER`, `${a}:BLOCK`]);
    // b did not wait for a's failing transfer.
    expect(order.indexOf(`${b}:BLOCK`)).toBeLessThan(order.indexOf(`${a}:TRANSFER`));
    expect(failures).toBe(4);
  });

  it("a range indexed again, or its transactions mined again after a reorg, adds nothing: event ids are stable", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const [r, carrier] = [randomAddress(), randomAddress()];
    const range = [h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)];
    h.commit(range);
    // The same logs again, as after a crash between commit and cursor (new rows for the
    // store's uniqueness, same tx hashes and log indexes).
    h.commit(range.map((e) => ({ ...e, blockHash: "0x" + "99".repeat(32) })));
    // The same transactions mined again into another block by a reorg, at other log indexes.
    h.commit(range.map((e) => ({ ...e, blockHash: "0x" + "98".repeat(32), blockNumber: e.blockNumber + 5, logIndex: e.logIndex + 3 })));
    await eventually("one", () => (rx.delivered().length >= 1 ? true : undefined));
    await new Promise((res) => setTimeout(res, 300));
    expect(rx.delivered()).toHaveLength(1);
    expect(h.store.subscriptions.lastSequence()).toBe(1);
  });

  it("Retry-After is honoured", async () => {
    const { h, rx } = await setup();
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    let first = true;
    rx.behaviour = () => {
      if (!first) return { status: 200 };
      first = false;
      return { status: 429, headers: { "retry-after": "1" } };
    };
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    await eventually("delivered", () => (rx.delivered().length >= 1 ? true : undefined));
    const [refused, accepted] = rx.received as [Received, Received];
    expect(refused.answered).toBe(429);
    expect(accepted.at - refused.at).toBeGreaterThanOrEqual(950);
    expect(accepted.headers["x-scr-delivery-attempt"]).toBe("2");
    expect(accepted.headers["webhook-id"]).toBe(refused.headers["webhook-id"]);
  });

  it("410 disables the subscription: no callbacks, none queued; creating it again enables it and the pending one follows", async () => {
    const { h, rx } = await setup();
    const sub = h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    rx.behaviour = { status: 410 };
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    await eventually("disabled", () => (h.service.list()[0]?.enabled === false ? true : undefined));
    expect(h.service.list()[0]!.disabledReason).toContain("410");
    h.commit([h.chain.simple("ReleaseBlocked", r)]);
    await new Promise((res) => setTimeout(res, 300));
    expect(rx.received).toHaveLength(1);
    expect(h.service.attempts(sub.id, { deliveryId: "", limit: 10 })[0]).toMatchObject({ status: 410, outcome: "gone" });
    expect(() => h.service.redeliver(sub.id, [])).toThrow(/disabled/);

    rx.behaviour = { status: 200 };
    const again = h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    expect(again).toMatchObject({ id: sub.id, enabled: true, disabledReason: null });
    await eventually("the pending transfer", () => (rx.delivered().length >= 1 ? true : undefined));
    h.commit([h.chain.simple("ReleaseUnblocked", r)]);
    await eventually("the next event", () => (rx.delivered().length >= 2 ? true : undefined));
    // The block happened while the subscription was disabled: it was not queued for it.
    expect(eventsOf(rx)).toEqual([`${r}:TRANSFER`, `${r}:UNBLOCK`]);
  });

  it("exhausted deliveries become dead letters, which are listed and delivered again with the same event id", async () => {
    const { h, rx } = await setup({
      subscriptions: { retry: { initialDelayMs: 20, maxDelayMs: 50, giveUpAfterMs: 400 }, pollIntervalMs: 50 },
    });
    const sub = h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    rx.behaviour = { status: 500 };
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self), h.chain.simple("ReleaseBlocked", r)]);
    const dead = await eventually("two dead letters", () => {
      const list = h.service.deliveries(sub.id, { state: "dead", afterSequence: 0, limit: 10 });
      return list.length === 2 ? list : undefined;
    });
    expect(dead.every((d) => d.attempts >= 3 && d.lastStatus === 500 && d.lastError === "HTTP 500")).toBe(true);
    const failedIds = new Set(rx.received.map((x) => x.headers["webhook-id"]));
    expect(failedIds.size).toBe(2);
    // The last attempt came when the retry period ended, not before.
    const log = h.service.attempts(sub.id, { deliveryId: String(dead[0]!.id), limit: 100 }).reverse();
    expect(log.at(-1)!.outcome).toBe("dead");
    expect(log.at(-1)!.startedAt - log[0]!.startedAt).toBeGreaterThanOrEqual(400);

    rx.behaviour = { status: 200 };
    const again = h.service.redeliver(sub.id, []);
    expect(again.map((d) => d.state)).toEqual(["pending", "pending"]);
    await eventually("redelivered", () => (rx.delivered().length >= 2 ? true : undefined));
    expect(new Set(rx.delivered().map((x) => x.headers["webhook-id"]))).toEqual(failedIds);
    expect(eventsOf(rx)).toEqual([`${r}:TRANSFER`, `${r}:BLOCK`]);
    await eventually("both recorded as delivered", () =>
      h.service.deliveries(sub.id, { state: "delivered", afterSequence: 0, limit: 10 }).length === 2 ? true : undefined,
    );
  });

  it("stopping cuts slow callbacks short; they stay pending, as after a crash", async () => {
    const { h, rx } = await setup();
    const sub = h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    rx.behaviour = { status: 200, delayMs: 10_000 };
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    await eventually("the callback in flight", () => (rx.received.length === 1 ? true : undefined));
    const started = Date.now();
    await h.runtime.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(h.service.deliveries(sub.id, { afterSequence: 0, limit: 10 })).toMatchObject([{ state: "pending", attempts: 0 }]);
    expect(h.service.attempts(sub.id, { deliveryId: "", limit: 10 })).toEqual([]);
  });
});

describe("callback authentication", () => {
  it("a JWT in Authorization that node:crypto verifies with the public key, and Standard Webhooks headers", async () => {
    const { h, rx } = await setup();
    const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
    const sub = h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret });
    // Kept sealed with the wallet's key: the database never holds the secret itself.
    const stored = h.store.subscriptions.findSubscription(sub.id)?.secret ?? "";
    expect(stored).toMatch(/^sealed:[0-9a-f]+$/);
    expect(stored).not.toContain(secret.slice(6, 20));
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    const got = (await eventually("callback", () => rx.delivered()[0])) as Received;

    const auth = got.headers.authorization as string;
    expect(auth).toMatch(/^Bearer /);
    const claims = verifyJwt(auth.slice(7), h.publicKeyPem);
    const now = Date.now() / 1000;
    expect(claims.exp as number).toBeGreaterThan(now);
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(60);
    expect(claims).toMatchObject({ iss: h.self, sub: got.body.eventId });
    expect(() => verifyJwt(auth.slice(7, -2) + (auth.endsWith("A") ? "BB" : "AA"), h.publicKeyPem)).toThrow();

    const headers = {
      "webhook-id": got.headers["webhook-id"] as string,
      "webhook-timestamp": got.headers["webhook-timestamp"] as string,
      "webhook-signature": got.headers["webhook-signature"] as string,
    };
    expect(headers["webhook-id"]).toBe(got.body.eventId);
    const wh = new Webhook(secret);
    expect(wh.verify(got.raw, headers)).toEqual(got.body);
    // One changed byte of the body fails, and so does another secret.
    const tampered = got.raw.replace('"TRANSFER"', '"TRANSFEX"');
    expect(tampered).not.toBe(got.raw);
    expect(() => wh.verify(tampered, headers)).toThrow();
    expect(() => new Webhook("whsec_" + Buffer.from("another-secret-of-32-bytes-000000").toString("base64")).verify(got.raw, headers)).toThrow();
  });

  it("with subscriptionAuthTokenInBody, the token arrives in the body and not in a header", async () => {
    const { h, rx } = await setup({ ...FAST, subscriptionAuthTokenInBody: true });
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    const got = (await eventually("callback", () => rx.delivered()[0])) as Received;
    expect(got.headers.authorization).toBeUndefined();
    expect(Object.keys(got.body)).toEqual(["release", "event", "organization", "vat", "eventId", "token"]);
    expect(verifyJwt(got.body.token as string, h.publicKeyPem).exp as number).toBeGreaterThan(Date.now() / 1000);
  });
});

describe("outgoing requests", () => {
  it("do not follow redirects, give up on slow answers, and read no more than the cap", async () => {
    const { h, rx } = await setup({
      subscriptions: {
        retry: { initialDelayMs: 5_000 },
        responseTimeoutMs: 300,
        maxResponseBytes: 1024,
        pollIntervalMs: 50,
      },
    });
    const redirect = h.service.create({ eventType: "onRelease", callbackUrl: `${rx.url}?redirect`, secret: undefined });
    const slow = h.service.create({ eventType: "onRelease", callbackUrl: `${rx.url}?slow`, secret: undefined });
    const big = h.service.create({ eventType: "onRelease", callbackUrl: `${rx.url}?big`, secret: undefined });
    rx.behaviour = (req) => {
      if (req.url?.endsWith("?redirect")) return { status: 302, headers: { location: `${rx.url}?followed` } };
      if (req.url?.endsWith("?slow")) return { status: 200, delayMs: 2_000 };
      if (req.url?.endsWith("?big")) return { status: 200, endless: true };
      return { status: 200 };
    };
    const [r, carrier] = [randomAddress(), randomAddress()];
    h.commit([h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]);
    const first = (id: string) => h.service.attempts(id, { deliveryId: "", limit: 10 })[0];
    await eventually("three attempts", () => (first(redirect.id) && first(slow.id) && first(big.id) ? true : undefined));
    expect(first(redirect.id)).toMatchObject({ status: 302, error: "HTTP 302", outcome: "retry" });
    expect(first(slow.id)).toMatchObject({ status: null, error: "response timeout", outcome: "retry" });
    expect(first(slow.id)!.latencyMs).toBeLessThan(1_500);
    // An answer that never ends is cut off after the cap, well before the response timeout.
    expect(first(big.id)).toMatchObject({ status: 200, outcome: "delivered" });
    expect(first(big.id)!.latencyMs).toBeLessThan(300);
    await new Promise((res) => setTimeout(res, 200));
    expect(rx.received.filter((x) => x.body?.release === r)).toHaveLength(3); // nothing reached ?followed
  });
});
