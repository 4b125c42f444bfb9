/**
 * Callback fan-out: 5,000 events committed to the outbox (as the indexer commits them: in
 * ranges, inside a SQLite transaction) and delivered to a local receiver by the gateway's
 * dispatcher — ES256 JWT per callback, attempt log, per-release ordering — against the same
 * number of plain POSTs of the same bodies from a bare undici loop with the same concurrency,
 * in the same run. Both sides have every event available at the start; latency is from that
 * moment (the commit of the event's range, for the gateway) to its arrival at the receiver.
 * Goal: the gateway keeps at least a quarter of the bare loop's throughput while it also
 * indexes each event (chain_events, the ownership replay, the event log and the fan-out, in
 * a durable transaction per range), signs a JWT per callback and records every attempt.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { randomAddress, startHarness } from "../test/subscriptions/harness.js";
import { envInt, fmt, median, ratioOf, summarize, type BenchResult } from "./lib.js";

const EVENTS = envInt("BENCH_EVENTS", 5_000);
const RELEASES = envInt("BENCH_RELEASES", 500);
const CONCURRENCY = envInt("BENCH_CONCURRENCY", 16);
const ROUNDS = envInt("BENCH_ROUNDS", 2);
/** Events per committed range. */
const RANGE = 100;
const GOAL = 0.25;

/** Counts arrivals by a key header; answers 204. */
async function startReceiver(key: string) {
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  const order: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = String(req.headers[key]);
      if (arrivals.has(id)) duplicates++;
      else {
        arrivals.set(id, performance.now());
        order.push(id);
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    arrivals,
    order,
    duplicates: () => duplicates,
    async waitFor(n: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (arrivals.size < n) {
        if (Date.now() > deadline) throw new Error(`only ${arrivals.size} of ${n} events arrived`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Run {
  eventsPerSecond: number;
  latencyMs: number[];
}

/** The gateway: outbox → dispatcher → receiver. */
async function gatewayRound(): Promise<Run> {
  const rx = await startReceiver("x-scr-sequence");
  const h = startHarness({ subscriptions: { concurrency: CONCURRENCY } });
  try {
    h.service.create({ eventType: "onRelease", callbackUrl: rx.url, secret: undefined });
    const carrier = randomAddress();
    const releases = Array.from({ length: RELEASES }, () => randomAddress());
    // The releases are transferred to this organisation first (not measured).
    h.commit(releases.flatMap((r) => [h.chain.created(r, carrier), h.chain.transferred(r, carrier, h.self)]));
    await rx.waitFor(RELEASES, 120_000);
    rx.arrivals.clear();
    rx.order.length = 0;

    const kinds = ["ReleaseUpdated", "ReleaseBlocked", "ReleaseUnblocked", "GreenLightsUpdated"];
    const events = Array.from({ length: EVENTS }, (_, i) => h.chain.simple(kinds[i % kinds.length] as string, releases[i % RELEASES] as string));
    const committedAt = new Map<string, number>();
    const start = performance.now();
    let last = h.store.subscriptions.lastSequence();
    for (let i = 0; i < events.length; i += RANGE) {
      // As the indexer does: a range commits, then the loop turns while the next is prepared.
      if (i > 0) await new Promise((r) => setImmediate(r));
      h.commit(events.slice(i, i + RANGE));
      const now = performance.now();
      for (const e of h.store.subscriptions.eventsAfter(last, RANGE + 1)) {
        committedAt.set(String(e.sequence), now);
        last = e.sequence;
      }
    }
    await rx.waitFor(EVENTS, 300_000);
    const end = Math.max(...rx.arrivals.values());
    if (rx.duplicates() > 0) throw new Error(`${rx.duplicates()} events arrived twice`);
    // In order per release: arrivals of one release follow their sequence numbers.
    const lastOf = new Map<string, number>();
    for (const seq of rx.order) {
      const release = JSON.parse(h.store.subscriptions.eventsAfter(Number(seq) - 1, 1)[0]!.payload).release as string;
      if ((lastOf.get(release) ?? 0) > Number(seq)) throw new Error(`release ${release}: event ${seq} arrived out of order`);
      lastOf.set(release, Number(seq));
    }
    return {
      eventsPerSecond: (EVENTS * 1000) / (end - start),
      latencyMs: [...rx.arrivals].map(([seq, at]) => at - (committedAt.get(seq) ?? start)),
    };
  } finally {
    await h.stop();
    await rx.close();
  }
}

/** The baseline: the same bodies POSTed by a bare undici loop. */
async function bareRound(): Promise<Run> {
  const rx = await startReceiver("x-id");
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const organization = randomAddress();
  const releases = Array.from({ length: RELEASES }, () => randomAddress());
  const bodies = Array.from({ length: EVENTS }, (_, i) =>
    JSON.stringify({ release: releases[i % RELEASES], event: "UPDATE", organization, vat: "BE0000000777", eventId: `evt_${i}` }),
  );
  try {
    let next = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < EVENTS) {
        const i = next++;
        const res = await request(rx.url, { method: "POST", headers: { "content-type": "application/json", "x-id": String(i) }, body: bodies[i], dispatcher: agent });
        await res.body.dump();
        if (res.statusCode !== 204) throw new Error(`HTTP ${res.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await rx.waitFor(EVENTS, 60_000);
    const end = Math.max(...rx.arrivals.values());
    return { eventsPerSecond: (EVENTS * 1000) / (end - start), latencyMs: [...rx.arrivals.values()].map((at) => at - start) };
  } finally {
    await agent.close();
    await rx.close();
  }
}

export default async function webhooks(): Promise<BenchResult[]> {
  const gw: Run[] = [];
  const bare: Run[] = [];
  // Warm-up: JIT, connections, SQLite.
  await bareRound();
  for (let round = 1; round <= ROUNDS; round++) {
    bare.push(await bareRound());
    gw.push(await gatewayRound());
    console.log(`  round ${round}/${ROUNDS}: gateway ${fmt(gw.at(-1)!.eventsPerSecond)} events/s, bare ${fmt(bare.at(-1)!.eventsPerSecond)} POST/s`);
  }
  const gwRate = median(gw.map((r) => r.eventsPerSecond));
  const bareRate = median(bare.map((r) => r.eventsPerSecond));
  const gwLat = summarize(gw.flatMap((r) => r.latencyMs));
  const bareLat = summarize(bare.flatMap((r) => r.latencyMs));
  const lat = (s: typeof gwLat) => `p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms`;
  const notes =
    `${EVENTS} events over ${RELEASES} releases, ${CONCURRENCY} in flight, committed in ranges of ${RANGE}; ` +
    `indexing → delivery: gateway ${lat(gwLat)}; bare undici POST from the start: ${lat(bareLat)}; ` +
    `per round events/s gateway ${gw.map((r) => fmt(r.eventsPerSecond)).join("/")}, bare ${bare.map((r) => fmt(r.eventsPerSecond)).join("/")}; ` +
    `load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`;
  return [
    {
      name: "webhooks fan-out",
      unit: "events/s",
      value: gwRate,
      baseline: bareRate,
      ratio: ratioOf(gwRate, bareRate, true),
      goal: GOAL,
      higherIsBetter: true,
      notes,
    },
    {
      name: "webhooks p99 latency",
      unit: "ms",
      value: gwLat.p99,
      baseline: bareLat.p99,
      ratio: ratioOf(gwLat.p99, bareLat.p99, false),
      goal: GOAL,
      higherIsBetter: false,
    },
  ];
}
