import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import type { AppContext } from "../../src/context.js";
import { MAX_READY_INDEXER_LAG } from "../../src/transport/ops/health.js";
import { hmacSetup, now, token } from "../auth/tokens.js";
import { SPEC_CARRIER, SPEC_SELF, specRelease, specReleaseRecord, startTestGateway, type TestGateway } from "../support/gateway.js";

const UNKNOWN = "0x00000000000000000000000000000000000000aA";

let gw: TestGateway;
let other: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF);
  gw.store.upsertOrganization(SPEC_CARRIER);
  gw.store.upsertOrganization(SPEC_SELF);
  gw.store.upsertRelease(specReleaseRecord());
  const k = hmacSetup();
  other = await startTestGateway(SPEC_SELF, { authentication: k.file }, undefined, { [k.file]: k.contents });
});
afterAll(async () => {
  await gw?.stop();
  await other?.stop();
});

/** The samples of a Prometheus text exposition, as `name{labels}` → value. */
async function scrape(target: TestGateway): Promise<Map<string, number>> {
  const res = await fetch(`${target.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const sample = (route: string, protocol: string, status: string) =>
  `scr_requests_total{route="${route}",protocol="${protocol}",status="${status}"}`;

describe("/healthz and /readyz", () => {
  it("/healthz answers 200 at the root, with no token, on a gateway that requires one", async () => {
    const res = await fetch(`${other.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect((await fetch(`${other.rest}/releases`)).status).toBe(401);
    expect((await fetch(`${other.rest}/healthz`)).status).toBe(404);
  });

  it("/readyz is 200 when the database answers (no chain)", async () => {
    const res = await fetch(`${other.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", failed: [], checks: { database: { ok: true } } });
  });

  it("/readyz checks the chain node and the indexer when there is a chain", async () => {
    const ctx = other.ctx as AppContext;
    let head: () => Promise<number> = async () => 1234;
    let lag: number | null = 3;
    ctx.chain = {} as AppContext["chain"];
    ctx.health = { chainHead: () => head(), indexer: () => ({ head: 1234, lag }) };
    try {
      const ready = await fetch(`${other.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", checks: { chain: { ok: true, head: 1234 }, indexer: { ok: true, lag: 3 } } });

      head = () => Promise.reject(new Error("connect ECONNREFUSED http://user:secret@node:8545"));
      lag = MAX_READY_INDEXER_LAG + 1;
      const down = await fetch(`${other.url}/readyz`);
      expect(down.status).toBe(503);
      const text = await down.text();
      expect(text).not.toContain("secret"); // causes are logged, not shown to anyone who asks
      expect(JSON.parse(text)).toMatchObject({
        status: "unavailable",
        failed: ["chain", "indexer"],
        checks: { database: { ok: true }, chain: { ok: false }, indexer: { ok: false, lag: MAX_READY_INDEXER_LAG + 1 } },
      });

      head = () => new Promise(() => {}); // a node that never answers
      lag = null; // nor has the indexer seen a head yet
      const hung = await fetch(`${other.url}/readyz`);
      expect(hung.status).toBe(503);
      expect(await hung.json()).toMatchObject({ failed: ["chain", "indexer"] });
    } finally {
      delete ctx.chain;
      delete ctx.health;
    }
  });
});

describe("/metrics", () => {
  it("counts requests by route template, protocol and status, with latency, in this gateway's registry only", async () => {
    expect((await fetch(`${gw.rest}/releases`)).status).toBe(200);
    expect((await fetch(`${gw.rest}/releases/${specRelease.address}`)).status).toBe(200);
    expect((await fetch(`${gw.rest}/releases/${UNKNOWN}`)).status).toBe(404);
    expect((await fetch(`${gw.rest}/no/such/path`)).status).toBe(404);
    for (const transport of [
      createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: gw.url }),
      createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
    ]) {
      const client = createClient(ReleaseService, transport);
      await client.listReleases({});
      await expect(client.getRelease({ address: UNKNOWN })).rejects.toThrow();
    }
    const m = await scrape(gw);
    expect(m.get(sample("/releases", "rest", "200"))).toBe(1);
    expect(m.get(sample("/releases/{address}", "rest", "200"))).toBe(1);
    expect(m.get(sample("/releases/{address}", "rest", "404"))).toBe(1);
    expect(m.get(sample("unmatched", "rest", "404"))).toBe(1);
    for (const protocol of ["connect", "grpc", "grpc-web"]) {
      expect(m.get(sample("/scr.v1.ReleaseService/ListReleases", protocol, "ok"))).toBe(1);
      expect(m.get(sample("/scr.v1.ReleaseService/GetRelease", protocol, "not_found"))).toBe(1);
    }
    expect(m.get(`scr_request_duration_seconds_count{route="/releases/{address}",protocol="rest"}`)).toBe(2);
    expect(m.get(`scr_request_duration_seconds_bucket{le="+Inf",route="/releases",protocol="rest"}`)).toBe(1);
    // Addresses never become label values; the operability routes are not counted.
    expect([...m.keys()].some((k) => /0x[0-9a-fA-F]{40}/.test(k))).toBe(false);
    expect([...m.keys()].some((k) => /healthz|readyz|metrics"/.test(k))).toBe(false);
    // Node's process metrics, and the pipeline's operations read at scrape time.
    expect(m.has("process_cpu_user_seconds_total")).toBe(true);
    expect(m.get(`scr_operations{state="pending"}`)).toBe(0);
    // The other gateway in this process keeps its own counts.
    expect([...(await scrape(other)).keys()].some((k) => k.includes("/scr.v1.ReleaseService/"))).toBe(false);
  });

  it("shows the callback outbox: deliveries pending, retrying and dead, and disabled subscriptions", async () => {
    const subs = gw.store.subscriptions;
    // A receiver on a closed port of this machine; the test gateway runs no delivery worker.
    const sub = subs.saveSubscription({ id: "metrics-sub", eventType: "onRelease", callbackUrl: "http://127.0.0.1:9/cb", secret: null }, Date.now());
    const event = (n: number) => ({
      eventId: `metrics-${n}`,
      type: "onRelease" as const,
      kind: "UPDATE",
      orderingKey: `release-${n}`,
      payload: "{}",
      blockNumber: n,
      txHash: `0x${String(n).padStart(64, "0")}`,
      logIndex: 0,
      createdAt: Date.now(),
    });
    subs.appendEvents([event(1), event(2), event(3)]);
    let m = await scrape(gw);
    expect([m.get(`scr_outbox_deliveries{state="pending"}`), m.get(`scr_outbox_deliveries{state="retrying"}`), m.get(`scr_outbox_deliveries{state="dead"}`)]).toEqual([3, 0, 0]);

    const [first, second] = subs.dueDeliveries(Date.now(), 10, new Set());
    const attempt = (d: NonNullable<typeof first>) => ({ deliveryId: d.id, eventId: d.eventId, attempt: 1, startedAt: Date.now(), status: 503, latencyMs: 1, error: null, outcome: "retry" as const });
    subs.recordAttempts([
      { delivery: first!, attempt: attempt(first!), next: { state: "pending", nextAttemptAt: Date.now() + 60_000, firstAttemptAt: Date.now() } },
      { delivery: second!, attempt: attempt(second!), next: { state: "dead", at: Date.now() }, disable: "410 Gone" },
    ]);
    m = await scrape(gw);
    expect([m.get(`scr_outbox_deliveries{state="pending"}`), m.get(`scr_outbox_deliveries{state="retrying"}`), m.get(`scr_outbox_deliveries{state="dead"}`)]).toEqual([1, 1, 1]);
    expect(m.get("scr_subscriptions_disabled")).toBe(1);
    subs.deleteSubscription(sub.id);
    expect((await scrape(gw)).get(`scr_outbox_deliveries{state="pending"}`)).toBe(0);
  });

  it("needs no token, and counts the refused calls", async () => {
    expect((await fetch(`${other.rest}/releases`, { headers: { authorization: "Bearer nonsense" } })).status).toBe(401);
    const k = hmacSetup();
    const valid = token(k, { sub: "erp", iat: now(), exp: now() + 60 });
    expect((await fetch(`${other.rest}/releases`, { headers: { authorization: `Bearer ${valid}` } })).status).toBe(200);
    const m = await scrape(other);
    expect(m.get(sample("/releases", "rest", "401"))).toBeGreaterThanOrEqual(1);
    expect(m.get(sample("/releases", "rest", "200"))).toBe(1);
  });

  it("every response carries its request id, the client's when it sent one", async () => {
    const res = await fetch(`${gw.rest}/releases`, { headers: { "x-request-id": "trace-me-42" } });
    expect(res.headers.get("x-request-id")).toBe("trace-me-42");
    expect((await fetch(`${gw.url}/healthz`)).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
