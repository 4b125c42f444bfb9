/**
 * The read path: `GET /releases?limit=50` on the gateway (REST → ReleaseService → drizzle →
 * proto → legacy JSON) against a bare Fastify route that answers the same 50 rows with one
 * prepared better-sqlite3 statement on the same SQLite file. Goal: the gateway keeps at
 * least 70 % of the bare route's throughput.
 */
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import Fastify from "fastify";
import type { SqliteStore } from "../src/adapters/store/sqlite/store.js";
import type { Organization, ReleaseRecord } from "../src/domain/releases/model.js";
import { SPEC_CARRIER, SPEC_SELF, specReleaseRecord, startTestGateway } from "../test/support/gateway.js";
import { compareTargets, envInt, fmt, getJson, ratioOf, type BenchResult, type TargetStats } from "./lib.js";

const RELEASES = envInt("BENCH_RELEASES", 10_000);
const LIMIT = 50;
const GOAL = 0.7;

const FORWARDER_A: Organization = { address: "0x1111111111111111111111111111111111111111", name: "Forwarder A", vat: "NL000000001B01" };
const FORWARDER_B: Organization = { address: "0x2222222222222222222222222222222222222222", name: "Forwarder B", vat: "DE000000002" };
const TERMINAL: Organization = { address: "0x3333333333333333333333333333333333333333", name: "Terminal T", vat: "BE0333333333" };

function addressFor(i: number): string {
  return "0x" + createHash("sha256").update(`bench-release-${i}`).digest("hex").slice(0, 40);
}

/**
 * Release i: a distinct address, B/L and container number; created_at a permutation of i so
 * insertion order is not list order, with pairs sharing a created_at so the address tiebreak
 * matters. SPEC_SELF is always in the chain: as current owner, as a middle owner (the release
 * moved on), or after a forwarder; every other release has a terminal.
 */
function seedRecord(i: number): ReleaseRecord {
  const base = specReleaseRecord();
  const slot = (i * 7919) % RELEASES; // 7919 is prime, coprime with 10,000: a permutation
  const createdAt = new Date(Date.UTC(2024, 0, 1) + Math.floor(slot / 2) * 60_000);
  const chains = [
    [SPEC_CARRIER.address, SPEC_SELF.address],
    [SPEC_CARRIER.address, SPEC_SELF.address, FORWARDER_B.address],
    [SPEC_CARRIER.address, FORWARDER_A.address, SPEC_SELF.address],
  ];
  return {
    ...base,
    address: addressFor(i),
    owners: chains[i % 3] as string[],
    terminal: i % 2 === 0 ? TERMINAL.address : null,
    data: {
      billOfLading: { ...base.data.billOfLading, blNumber: `BENCH-BL-${String(i).padStart(6, "0")}` },
      container: { ...base.data.container, containerNumber: `BNCU${String(i).padStart(7, "0")}` },
    },
    createdAt,
    updatedAt: new Date(createdAt.getTime() + 3_600_000),
  };
}

/** Seeds the organisations and RELEASES releases; returns the releases as written. */
export function seed(store: SqliteStore): ReleaseRecord[] {
  for (const org of [SPEC_CARRIER, SPEC_SELF, FORWARDER_A, FORWARDER_B, TERMINAL]) store.upsertOrganization(org);
  const records = Array.from({ length: RELEASES }, (_, i) => seedRecord(i));
  // One transaction: the store syncs every commit, and 10,000 commits take minutes.
  store.transaction(() => {
    for (const r of records) store.upsertRelease(r);
  });
  return records;
}

interface Row {
  address: string;
  data: string;
  green_lights: string;
  [column: string]: unknown;
}

/**
 * The bare route's SELECT: the gateway's join on release_parties and ORDER BY, as one plain
 * statement. BENCH_BARE_SQL picks the variant:
 * - "exists" (default): the statement the gateway itself runs, visibility as a semi-join
 *   that lets SQLite walk releases_order and stop after one page; the fair baseline, so the
 *   ratio measures what the gateway adds on top of the same SQL.
 * - "join": the plain inner join. release_parties holds one row per (release,
 *   party) (upsertRelease writes a set), so it lists exactly the rows the gateway lists.
 * - "distinct": byte for byte the SELECT DISTINCT drizzle generates for listReleases, to
 *   measure the gateway's layers with the SQL cost held equal.
 */
const BARE_SQL: Record<string, string> = {
  join: `
    SELECT r.* FROM release_parties p JOIN releases r ON r.address = p.release
    WHERE p.party = ? ORDER BY r.created_at ASC, r.address ASC LIMIT ? OFFSET ?`,
  distinct: `
    SELECT DISTINCT r.* FROM release_parties p JOIN releases r ON r.address = p.release
    WHERE p.party = ? ORDER BY r.created_at ASC, r.address ASC LIMIT ? OFFSET ?`,
  exists: `
    SELECT r.* FROM releases r
    WHERE EXISTS (SELECT 1 FROM release_parties p WHERE p.release = r.address AND p.party = ?)
    ORDER BY r.created_at ASC, r.address ASC LIMIT ? OFFSET ?`,
};

function addressesOf(body: unknown, who: string): string[] {
  if (!Array.isArray(body)) throw new Error(`${who}: expected a JSON array, got ${JSON.stringify(body).slice(0, 200)}`);
  return body.map((item, n) => {
    const a = (item as { address?: unknown } | null)?.address;
    if (typeof a !== "string") throw new Error(`${who}: item ${n} has no address`);
    return a.toLowerCase();
  });
}

function statsNote(s: TargetStats): string {
  const l = s.latency;
  return (
    `${s.name} ${fmt(s.rps)} req/s (rounds ${s.roundRps.map(fmt).join("/")}), ` +
    `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, ${s.requests} requests`
  );
}

export default async function readBench(): Promise<BenchResult[]> {
  const log = (line: string) => console.log(line);
  const gw = await startTestGateway(SPEC_SELF);
  const bare = Fastify({ logger: false });
  let sqlite: Database.Database | undefined;
  try {
    const t0 = Date.now();
    const records = seed(gw.store);
    // A second connection to the gateway's file (the store keeps its own private), set up
    // as src/adapters/store/sqlite/open.ts sets up the gateway's.
    sqlite = new Database(join(gw.ctx.config.baseDir, gw.ctx.config.sqliteDB), { fileMustExist: true });
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    const count = (sqlite.prepare("SELECT count(*) AS n FROM releases").get() as { n: number }).n;
    if (count !== RELEASES) throw new Error(`seeded ${count} releases, wanted ${RELEASES}`);
    log(`  seeded ${count} releases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The bare route: same file, same SQL shape, minimal work.
    const variant = process.env.BENCH_BARE_SQL || "exists";
    const sql = BARE_SQL[variant];
    if (!sql) throw new Error(`BENCH_BARE_SQL must be one of ${Object.keys(BARE_SQL).join(", ")}, got ${variant}`);
    const stmt = sqlite.prepare<[string, number, number], Row>(sql);
    const self = SPEC_SELF.address.toLowerCase();
    bare.get("/releases", async (req) => {
      const q = req.query as { limit?: string; page?: string };
      const limit = Number(q.limit ?? LIMIT) || LIMIT;
      const page = Number(q.page ?? 1) || 1;
      return stmt.all(self, limit, (page - 1) * limit).map((row) => ({
        ...row,
        data: JSON.parse(row.data) as unknown,
        green_lights: JSON.parse(row.green_lights) as unknown,
      }));
    });
    await bare.listen({ host: "127.0.0.1", port: 0 });
    const barePort = (bare.server.address() as { port: number }).port;

    const targets = [
      { name: "gateway", url: `${gw.rest}/releases?limit=${LIMIT}` },
      { name: "bare", url: `http://127.0.0.1:${barePort}/releases?limit=${LIMIT}` },
    ];

    // Both answer the same 50 releases, in the order the seed data says they must come.
    const expected = records
      .map((r) => ({ address: r.address.toLowerCase(), createdAt: r.createdAt.getTime() }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
      .slice(0, LIMIT)
      .map((r) => r.address);
    const [gwList, bareList] = [
      addressesOf(await getJson(targets[0]!.url), "gateway"),
      addressesOf(await getJson(targets[1]!.url), "bare"),
    ];
    if (gwList.length !== LIMIT) throw new Error(`gateway returned ${gwList.length} releases, wanted ${LIMIT}`);
    if (bareList.length !== LIMIT) throw new Error(`bare route returned ${bareList.length} releases, wanted ${LIMIT}`);
    for (let n = 0; n < LIMIT; n++) {
      if (gwList[n] !== bareList[n] || gwList[n] !== expected[n]) {
        throw new Error(
          `release ${n} differs: gateway ${gwList[n]}, bare ${bareList[n]}, expected ${expected[n]} ` +
            `(gateway and bare must list the same addresses in the same order)`,
        );
      }
    }
    log(`  verified: both list the same ${LIMIT} addresses in the same order`);

    const load0 = loadavg()[0] ?? NaN;
    const [g, b] = await compareTargets(targets, {
      concurrency: envInt("BENCH_CONCURRENCY", 8),
      rounds: envInt("BENCH_ROUNDS", 3),
      maxRequests: envInt("BENCH_REQUESTS", 3000),
      maxDurationMs: envInt("BENCH_SECONDS", 10) * 1000,
      warmupRequests: envInt("BENCH_WARMUP_REQUESTS", 500),
      warmupDurationMs: 3000,
      log,
    });
    if (!g || !b) throw new Error("compareTargets returned too few results");
    const roundRatios = g.roundRps.map((r, i) => r / (b.roundRps[i] ?? NaN));
    return [
      {
        name: `read: GET /releases?limit=${LIMIT} (${RELEASES} cached)`,
        unit: "req/s",
        value: g.rps,
        baseline: b.rps,
        ratio: ratioOf(g.rps, b.rps, true),
        goal: GOAL,
        higherIsBetter: true,
        notes:
          `${statsNote(g)}; ${statsNote(b)}; per-round ratio ${roundRatios.map((r) => r.toFixed(2)).join("/")}; ` +
          `bare SQL "${variant}"; loadavg ${load0.toFixed(2)} at start`,
      },
    ];
  } finally {
    await bare.close();
    sqlite?.close();
    await gw.stop();
  }
}
