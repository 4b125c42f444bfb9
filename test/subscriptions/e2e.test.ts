/**
 * Notifications between real gateways on one real anvil, each with its own receiver on
 * 127.0.0.1: a carrier, a forwarder and a transporter. The carrier writes through its own
 * ledger and pipeline; the forwarder and transporter transfer and revoke over REST.
 */
import { createPublicKey, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { getAddress } from "ethers";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import { walletCommand } from "../../src/cli/wallet.js";
import type { ConfigInput } from "../../src/config/load.js";
import type { Gateway } from "../../src/main.js";
import { SubscriptionService, type WatchEventsResponse } from "../../gen/scr/v1/subscription_service_pb.js";
import { rest, startNetwork, type TestNetwork } from "../support/network.js";
import { createRelease, transferAndSettle, type CreatedRelease } from "../support/releases.js";
import { Receiver, type Received } from "./receiver.js";

const FAST: ConfigInput = {
  subscriptions: { retry: { initialDelayMs: 50, multiplier: 2, maxDelayMs: 400, jitter: 0.3 }, pollIntervalMs: 100 },
};
const SECRET = "whsec_" + Buffer.from("forwarder-secret-0123456789abcdef").toString("base64");
const T_VAT = "NL000000302B01";

let net: TestNetwork;
let carrier: Gateway;
let f: Gateway;
let t: Gateway;
const rx = {} as Record<"carrier" | "f" | "t" | "invitations", Receiver>;

const addressOf = (gw: Gateway) => getAddress(gw.ctx.chain!.wallet.address);

async function subscribe(gw: Gateway, body: Record<string, unknown>): Promise<string> {
  const res = await rest(gw, "POST", "/subscriptions", body);
  if (res.status !== 200) throw new Error(`subscription refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** The PEM `scr wallet export-public-key` writes for the gateway's wallet. */
async function exportedPem(gw: Gateway): Promise<string> {
  const dir = gw.ctx.config.baseDir;
  const config = join(dir, "export.json");
  writeFileSync(config, JSON.stringify({ dataDir: "." }));
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const code = await walletCommand(["export-public-key", "--out", join(dir, "callback.pem"), "--config", config, "--force"], { stdout: sink, stderr: sink });
  expect(code).toBe(0);
  return readFileSync(join(dir, "callback.pem"), "utf8");
}

/** An ES256 JWT checked with node:crypto only: signature, a short exp still ahead. */
function checkJwt(token: string, pem: string): void {
  const [h, p, s] = token.split(".") as [string, string, string];
  expect(JSON.parse(Buffer.from(h, "base64url").toString())).toMatchObject({ alg: "ES256" });
  const ok = verify("sha256", Buffer.from(`${h}.${p}`), { key: createPublicKey(pem), dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
  expect(ok).toBe(true);
  const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as { exp: number; iat: number };
  expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
  expect(claims.exp).toBeGreaterThan(claims.iat);
}

const until = <T>(what: string, fn: () => T | undefined, timeoutMs = 60_000) => net.settle(what, fn, timeoutMs);
const onRelease = (r: Receiver, release: string) => r.delivered().filter((x) => x.body?.release === release);

beforeAll(async () => {
  net = await startNetwork();
  carrier = await net.join("Carrier NV", "BE0000000301", Role.Carrier, FAST);
  f = await net.join("Forwarder F", "BE0000000302", Role.Forwarder, FAST);
  t = await net.join("Transporter T", T_VAT, Role.Transporter, { ...FAST, subscriptionAuthTokenInBody: true });
  for (const k of ["carrier", "f", "t", "invitations"] as const) rx[k] = await Receiver.start();
  await subscribe(carrier, { eventType: "onRelease", callback_url: rx.carrier.url });
  await subscribe(f, { eventType: "onRelease", callback_url: rx.f.url, secret: SECRET });
  await subscribe(f, { eventType: "onAcceptInvitation", callback_url: rx.invitations.url });
  await subscribe(t, { eventType: "onRelease", callback_url: rx.t.url });
  await net.connect(carrier, f);
  await net.connect(f, t, "CUST-T");
}, 180_000);

afterAll(async () => {
  await net?.stop();
  for (const r of Object.values(rx)) await r.stop();
});

describe("onAcceptInvitation", () => {
  it("the inviter is told the reference, the status and the organisation as GET /connections shows it", async () => {
    const got = await until("the acceptance callback", () => rx.invitations.delivered()[0]);
    const { eventId, ...body } = got.body as Record<string, unknown>;
    const connection = (await rest(f, "GET", "/connections")).body.find((c: { address: string }) => c.address === addressOf(t));
    expect(body).toEqual({ ...connection, status: "accepted" });
    expect(body).toEqual({
      reference: "CUST-T",
      status: "accepted",
      name: "Transporter T",
      vat: T_VAT,
      address: addressOf(t),
      publicKey: t.ctx.chain!.wallet.encryptionPublicKeyPem,
    });
    expect(eventId).toBe(got.headers["webhook-id"]);
    expect(rx.invitations.delivered()).toHaveLength(1);
  });
});

describe("onRelease between real gateways", () => {
  let r: CreatedRelease;

  it("transfers notify the recipient and the sender; a revoke notifies everyone in the chain", async () => {
    r = await createRelease(net, carrier);
    await transferAndSettle(net, carrier, r.id, f);
    await transferAndSettle(net, f, r.id, t);
    const revoked = await rest(carrier, "PUT", `/releases/${r.id}/revoke`);
    expect(revoked.status).toBe(202);

    const expectEvents = async (name: string, receiver: Receiver, events: string[]) => {
      const got = await until(`${name}: ${events.join(", ")}`, () => {
        const list = onRelease(receiver, r.id);
        return list.length >= events.length ? list : undefined;
      });
      expect(got.map((x) => x.body.event)).toEqual(events);
      return got;
    };
    const [c, ff, tt] = await Promise.all([
      expectEvents("carrier", rx.carrier, ["TRANSFER", "REVOKE"]),
      expectEvents("forwarder", rx.f, ["TRANSFER", "TRANSFER", "REVOKE"]),
      expectEvents("transporter", rx.t, ["TRANSFER", "REVOKE"]),
    ]);
    // Each organisation is told as itself: its own address and VAT.
    expect(c[1]!.body).toMatchObject({ release: r.id, event: "REVOKE", organization: addressOf(carrier), vat: "BE0000000301" });
    expect(ff[2]!.body).toMatchObject({ release: r.id, event: "REVOKE", organization: addressOf(f), vat: "BE0000000302" });
    expect(tt[1]!.body).toMatchObject({ release: r.id, event: "REVOKE", organization: addressOf(t), vat: T_VAT });
    const { eventId, token, ...legacy } = tt[1]!.body as Record<string, unknown>;
    expect(legacy).toStrictEqual({ release: r.id, event: "REVOKE", organization: addressOf(t), vat: T_VAT });
    expect(eventId).toBe(tt[1]!.headers["x-scr-event-id"]);
    expect(typeof token).toBe("string");
    // One chain event, three notifications: each organisation's has its own id, so entities
    // sharing one endpoint do not de-duplicate each other.
    expect(new Set([c[1]!.headers["webhook-id"], ff[2]!.headers["webhook-id"], tt[1]!.headers["webhook-id"]]).size).toBe(3);
  });

  it("callbacks are signed: the JWT verifies with the exported PEM (header or body), the HMAC with standardwebhooks", async () => {
    const fPem = await exportedPem(f);
    const tPem = await exportedPem(t);
    expect(fPem).toBe(f.ctx.chain!.wallet.callbackPublicKeyPem.trimEnd() + "\n");
    const fromF = onRelease(rx.f, r.id)[0] as Received;
    checkJwt((fromF.headers.authorization as string).replace(/^Bearer /, ""), fPem);
    expect(() => checkJwt((fromF.headers.authorization as string).slice(7), tPem)).toThrow();

    const fromT = onRelease(rx.t, r.id)[0] as Received;
    expect(fromT.headers.authorization).toBeUndefined();
    checkJwt(fromT.body.token as string, tPem);

    const wh = new Webhook(SECRET);
    const headers = (x: Received) => ({
      "webhook-id": x.headers["webhook-id"] as string,
      "webhook-timestamp": x.headers["webhook-timestamp"] as string,
      "webhook-signature": x.headers["webhook-signature"] as string,
    });
    for (const x of onRelease(rx.f, r.id)) expect(wh.verify(x.raw, headers(x))).toEqual(x.body);
    const bytes = Buffer.from(fromF.raw);
    bytes[bytes.length - 3]! ^= 1;
    expect(() => wh.verify(bytes.toString(), headers(fromF))).toThrow();
    // Without a secret, no signature headers.
    expect(onRelease(rx.t, r.id)[0]!.headers["webhook-signature"]).toBeUndefined();
  });

  it("receiver outage: 503, then connection refused, while 200 events happen; all 200 arrive, none lost, in order per release", async () => {
    const outage = await Receiver.start();
    try {
      const id = await subscribe(f, { eventType: "onRelease", callback_url: outage.url });
      outage.behaviour = { status: 503 };
      const { ledger, pipeline } = carrier.ctx.chain!;
      const releases: CreatedRelease[] = [];
      for (let i = 0; i < 10; i++) releases.push(await createRelease(net, carrier));
      // 10 transfers to F, then 190 blocks and unblocks: 200 events for F.
      for (const x of releases) {
        const res = await rest(carrier, "PUT", `/releases/${x.id}/transfer`, { address: addressOf(f) });
        expect(res.status).toBe(202);
      }
      await until("503s", () => (outage.received.length > 0 ? true : undefined));
      // 190 updates by the carrier (new sealed data: no state precondition, so they can all be
      // submitted at once; a block/unblock sequence would need each to be mined first).
      const parties = [carrier.ctx.chain!.wallet, f.ctx.chain!.wallet];
      const pems = parties.map((w) => w.encryptionPublicKeyPem);
      for (let round = 0; round < 19; round++) {
        if (round === 6) await outage.down();
        for (const x of releases) {
          const sealed = carrier.ctx.chain!.crypto.sealData(x.data, pems);
          const call = ledger.update(x.id, sealed.sealedData, parties.map((w) => w.address), sealed.wrappedKeys);
          pipeline.submit({ kind: "update_release", release: x.id, ...call });
        }
      }
      await until("200 events in F's log", () => {
        const pending = f.ctx.store.subscriptions.listDeliveries(id, { afterSequence: 0, limit: 1000 });
        return pending.length >= 200 ? true : undefined;
      }, 120_000);
      expect(outage.delivered()).toHaveLength(0);
      const attempts = f.ctx.store.subscriptions.listAttempts(id, { limit: 1000 });
      expect(attempts.some((a) => a.status === 503)).toBe(true);
      expect(attempts.some((a) => a.error === "connection refused")).toBe(true);

      outage.behaviour = { status: 200 };
      await outage.up();
      await until("all 200 delivered", () => (outage.delivered().length >= 200 ? true : undefined), 120_000);
      await new Promise((res) => setTimeout(res, 500));
      const delivered = outage.delivered();
      expect(delivered).toHaveLength(200);
      expect(new Set(delivered.map((x) => x.body.eventId)).size).toBe(200);
      // Per release, in the order of F's event log: the transfer, then the 19 updates.
      const log = f.ctx.store.subscriptions.eventsAfter(0, 10_000, "onRelease");
      for (const x of releases) {
        const inLog = log.filter((e) => JSON.parse(e.payload).release === x.id).map((e) => e.eventId);
        const got = onRelease(outage, x.id);
        expect(got.map((d) => d.body.eventId)).toEqual(inLog);
        expect(got.map((d) => d.body.event)).toEqual(["TRANSFER", ...Array<string>(19).fill("UPDATE")]);
      }
      expect(f.ctx.store.subscriptions.listDeliveries(id, { state: "pending", afterSequence: 0, limit: 1000 })).toEqual([]);
    } finally {
      await outage.stop();
    }
  }, 300_000);
});

describe("WatchEvents", () => {
  it("streams the events with a sequence; reconnecting with the last sequence misses nothing (gRPC, then Connect)", async () => {
    const seen: WatchEventsResponse[] = [];
    const first = createClient(SubscriptionService, createGrpcTransport({ baseUrl: f.url }));
    const abort = new AbortController();
    const stream = first.watchEvents({ afterSequence: 0n }, { signal: abort.signal });
    const reading = (async () => {
      try {
        for await (const e of stream) seen.push(e);
      } catch {
        // aborted
      }
    })();
    await new Promise((res) => setTimeout(res, 300));
    const a = await createRelease(net, carrier);
    await transferAndSettle(net, carrier, a.id, f);
    await until("the live transfer", () => (seen.length >= 1 ? true : undefined));
    abort.abort();
    await reading;
    const last = seen.at(-1)!.sequence;

    // While disconnected: more events.
    const { ledger } = carrier.ctx.chain!;
    carrier.ctx.chain!.pipeline.submit({ kind: "block_release", release: a.id, ...ledger.block(a.id) });
    const b = await createRelease(net, carrier);
    await transferAndSettle(net, carrier, b.id, f);
    await until("the block in F's log", () => (onRelease(rx.f, a.id).length >= 2 ? true : undefined));

    const again = createClient(SubscriptionService, createConnectTransport({ baseUrl: f.url, httpVersion: "1.1" }));
    const resumed: WatchEventsResponse[] = [];
    const abort2 = new AbortController();
    const reading2 = (async () => {
      try {
        for await (const e of again.watchEvents({ afterSequence: last }, { signal: abort2.signal })) resumed.push(e);
      } catch {
        // aborted
      }
    })();
    await until("the missed events", () => (resumed.length >= 2 ? true : undefined));
    abort2.abort();
    await reading2;

    const log = f.ctx.store.subscriptions.eventsAfter(Number(seen[0]!.sequence) - 1, 1000);
    expect([...seen, ...resumed].map((e) => e.eventId)).toEqual(log.map((e) => e.eventId));
    const sequences = [...seen, ...resumed].map((e) => Number(e.sequence));
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    const blocked = resumed.find((e) => e.payload.case === "releaseEvent" && e.payload.value.release === a.id);
    expect(blocked?.payload.value).toMatchObject({ release: a.id, organization: addressOf(f), vat: "BE0000000302" });
    // The same event ids as the callbacks.
    expect(onRelease(rx.f, a.id).map((x) => x.headers["webhook-id"])).toEqual(
      [...seen, ...resumed].filter((e) => e.payload.case === "releaseEvent" && e.payload.value.release === a.id).map((e) => e.eventId),
    );
  }, 120_000);
});
