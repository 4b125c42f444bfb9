import http from "node:http";
import { performance } from "node:perf_hooks";

/** One measured quantity, compared against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline when higherIsBetter, else baseline / value: ≥ goal is always good. */
  ratio: number;
  goal: number;
  higherIsBetter: boolean;
  notes?: string;
}

/** What every `bench/*.bench.ts` exports as default. */
export type Bench = () => Promise<BenchResult[]>;

export function ratioOf(value: number, baseline: number, higherIsBetter: boolean): number {
  if (higherIsBetter) return baseline === 0 ? 0 : value / baseline;
  return value === 0 ? 0 : baseline / value;
}

/** An integer knob from the environment, e.g. BENCH_ROUNDS=5. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile of an ascending array; p in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latenciesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Response {
  status: number;
  body: Buffer;
}

/** One GET over `agent`; the body is read to the end (and kept only if asked). */
export function get(url: string, agent: http.Agent, keepBody = false): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => {
        if (keepBody) chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** GET and parse JSON, failing on anything but 200. */
export async function getJson(url: string): Promise<unknown> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const res = await get(url, agent, true);
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${res.body.toString().slice(0, 500)}`);
    return JSON.parse(res.body.toString("utf8"));
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Load loop

export interface LoadOptions {
  url: string;
  /** Requests in flight at any time. */
  concurrency: number;
  /** Stop after this many requests… */
  maxRequests: number;
  /** …or after this long, whichever comes first. */
  maxDurationMs: number;
}

export interface LoadResult {
  requests: number;
  durationMs: number;
  /** One entry per request, in completion order. */
  latenciesMs: Float64Array;
}

/**
 * Closed-loop load: `concurrency` workers each send a request, wait for the whole response,
 * and send the next, over keep-alive connections of a fresh agent (so an idle gap between
 * rounds never meets a socket the server has just timed out). Any non-200 or socket error
 * fails the run: a benchmark of errors measures nothing.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies = new Float64Array(opts.maxRequests);
  let issued = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + opts.maxDurationMs;
  const worker = async () => {
    while (issued < opts.maxRequests && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      const res = await get(opts.url, agent);
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`GET ${opts.url}: HTTP ${res.status}`);
      latencies[done++] = t1 - t0;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { requests: done, durationMs: performance.now() - start, latenciesMs: latencies.subarray(0, done) };
}

export interface Target {
  name: string;
  url: string;
}

export interface TargetStats {
  name: string;
  requests: number;
  durationMs: number;
  /** Total requests over total time, all rounds. */
  rps: number;
  roundRps: number[];
  latency: LatencySummary;
}

export interface CompareOptions {
  concurrency: number;
  rounds: number;
  maxRequests: number;
  maxDurationMs: number;
  warmupRequests: number;
  warmupDurationMs: number;
  log?: (line: string) => void;
}

/**
 * Warms every target up, then measures them in alternating rounds (A, B, A, B, …) so that a
 * noisy neighbour or CPU throttling hits all of them alike. Latencies are pooled over rounds.
 */
export async function compareTargets(targets: readonly Target[], opts: CompareOptions): Promise<TargetStats[]> {
  const log = opts.log ?? (() => {});
  for (const t of targets) {
    const w = await runLoad({
      url: t.url,
      concurrency: opts.concurrency,
      maxRequests: opts.warmupRequests,
      maxDurationMs: opts.warmupDurationMs,
    });
    log(`  warm-up ${t.name}: ${w.requests} requests in ${(w.durationMs / 1000).toFixed(1)} s`);
  }
  const acc = targets.map(() => ({ requests: 0, durationMs: 0, rounds: [] as number[], lat: [] as Float64Array[] }));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const [i, t] of targets.entries()) {
      const r = await runLoad({
        url: t.url,
        concurrency: opts.concurrency,
        maxRequests: opts.maxRequests,
        maxDurationMs: opts.maxDurationMs,
      });
      const a = acc[i]!;
      const rps = (r.requests * 1000) / r.durationMs;
      a.requests += r.requests;
      a.durationMs += r.durationMs;
      a.rounds.push(rps);
      a.lat.push(r.latenciesMs);
      log(`  round ${round}/${opts.rounds} ${t.name}: ${r.requests} requests, ${fmt(rps)} req/s`);
    }
  }
  return targets.map((t, i) => {
    const a = acc[i]!;
    const all = new Float64Array(a.requests);
    let at = 0;
    for (const l of a.lat) {
      all.set(l, at);
      at += l.length;
    }
    return {
      name: t.name,
      requests: a.requests,
      durationMs: a.durationMs,
      rps: (a.requests * 1000) / a.durationMs,
      roundRps: a.rounds,
      latency: summarize(all),
    };
  });
}

/** "12.3" for small numbers, "1234" for large ones. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
