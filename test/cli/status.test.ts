import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/adapters/store/sqlite/open.js";
import { readStoreStatus } from "../../src/adapters/store/sqlite/status-reader.js";
import { statusCommand, type StatusReport } from "../../src/cli/status.js";
import type { Gateway } from "../../src/main.js";
import { sink } from "../support/cli-io.js";
import { startNetwork, until, type TestNetwork } from "../support/network.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

async function status(...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await statusCommand(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

async function statusJson(...argv: string[]): Promise<{ code: number; report: StatusReport }> {
  const r = await status(...argv, "--json");
  expect(r.stderr).toBe("");
  return { code: r.code, report: JSON.parse(r.stdout) as StatusReport };
}

describe("scr status against a gateway", () => {
  let net: TestNetwork;
  let gw: Gateway;
  let dir: string;
  let config: string;
  let dataDir: string;

  beforeAll(async () => {
    net = await startNetwork();
    gw = await net.startUnregistered();
    dataDir = gw.ctx.config.dataDir;
    dir = mkdtempSync(join(tmpdir(), "scr-status-"));
    config = join(dir, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify({ dataDir, httpServer: { port: Number(new URL(gw.url).port) }, chain: { rpcUrl: net.anvil.rpcUrl, contracts: net.addresses } }),
    );
    await net.settle("the indexer at the head", () => (gw.indexer.status().lag === 0 ? true : undefined));
  });
  afterAll(async () => {
    await net?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--json has every part and exits 0 when healthy", async () => {
    const { code, report } = await statusJson("--config", config);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.healthy).toBe(true);
    expect(report.gateway).toEqual({ state: "up", url: new URL(gw.url).origin });
    expect(report.version).toBe(VERSION);
    expect(report.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(report.startedAt!)).not.toBeNaN();
    expect(report.chain).toMatchObject({ rpcUrl: net.anvil.rpcUrl, local: false, chainId: "31337", reachable: true });
    expect(report.chain.head).toBeGreaterThan(0);
    expect(report.indexer).toMatchObject({ confirmations: 0, catchingUp: false, lastError: null });
    expect(report.indexer.indexedThrough).toBeGreaterThan(0);
    expect(report.indexer.lag).toBeGreaterThanOrEqual(0);
    expect(report.indexer).toHaveProperty("progress");
    expect(report.operations!.byState).toEqual({ pending: 0, submitted: 0, confirmed: 0, failed: 0 });
    expect(report.operations!.recentFailures).toEqual({ withinSeconds: 3600, count: 0, latest: [] });
    expect(report.outbox).toEqual({ available: true, backlog: 0, retrying: 0, dead: 0, oldestWaitingAt: null, failingSubscriptions: [] });
    expect(report.wallet.address).toBe(gw.ctx.chain!.wallet.address);
    expect(report.database.file).toBe(join(dataDir, "db.sqlite3"));
    expect(report.database.bytes).toBeGreaterThan(0);
    expect(report.warnings).toEqual([]);
  });

  it("prints the same as text", async () => {
    const r = await status("--config", config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^scr-gateway ${VERSION}: healthy\n`));
    expect(r.stdout).toContain(`gateway    up at ${new URL(gw.url).origin} for `);
    expect(r.stdout).toContain(`chain      ${net.anvil.rpcUrl}, chain 31337, head block `);
    expect(r.stdout).toMatch(/indexer    at block \d+ of \d+, \d+ behind/);
    expect(r.stdout).toContain("operations 0 pending, 0 submitted, 0 confirmed, 0 failed");
    expect(r.stdout).toContain("outbox     0 waiting (0 retrying), 0 dead letters");
    expect(r.stdout).toContain(`wallet     ${gw.ctx.chain!.wallet.address}`);
    expect(r.stdout).toContain(`database   ${join(dataDir, "db.sqlite3")}, `);
  });

  it("GET /status answers callers on this host, not what a proxy forwards", async () => {
    const direct = await fetch(`${gw.url}/status`);
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { version: string }).version).toBe(VERSION);
    const proxied = await fetch(`${gw.url}/status`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(proxied.status).toBe(403);
    expect(await proxied.json()).toEqual({ error: "GET /status answers only callers on the gateway's host" });
  });

  it("a recently failed operation makes it unhealthy", async () => {
    const id = randomUUID();
    const ops = gw.ctx.store.operations;
    const now = Date.now();
    const op = { id, idempotencyKey: null, requestHash: "status-test", kind: "transfer", release: null, signer: gw.ctx.chain!.wallet.address, to: net.addresses.releaseRegistry, data: "0x" };
    ops.inTransaction(() => {
      ops.recordOperation(op, now);
      ops.markFailed(id, "reverted: the test says so", now);
    });
    const { code, report } = await statusJson("--config", config);
    expect(code).toBe(1);
    expect(report.healthy).toBe(false);
    expect(report.problems).toEqual(["operations: 1 failed in the last 1h 0m"]);
    expect(report.operations!.recentFailures.latest).toEqual([{ id, kind: "transfer", reason: "reverted: the test says so", at: new Date(now).toISOString() }]);
    expect(report.operations!.byState.failed).toBe(1);
  });

  it("with the gateway stopped: exit 1, 'gateway: down', and what the database and the node tell", async () => {
    await gw.stop();
    const { code, report } = await statusJson("--config", config, "--failed-within", "0");
    expect(code).toBe(1);
    expect(report.gateway.state).toBe("down");
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^gateway: down \(.*ECONNREFUSED\)$/);
    expect(report.version).toBe(VERSION);
    expect(report.uptimeSeconds).toBeNull();
    expect(report.chain).toMatchObject({ rpcUrl: net.anvil.rpcUrl, chainId: "31337", reachable: true });
    expect(report.indexer.indexedThrough).toBeGreaterThan(0);
    expect(report.wallet.address).toBe(gw.ctx.chain!.wallet.address);
    expect(report.database.bytes).toBeGreaterThan(0);
    expect(report.operations!.byState.failed).toBe(1);

    const text = await status("--config", config);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/UNHEALTHY\ngateway    down: /);
    expect(text.stdout).toContain("problems:\n  - gateway: down");
  });

  it("an indexer further behind than --max-lag is a problem", async () => {
    await net.provider.send("anvil_mine", ["0x3c"]); // 60 blocks the stopped indexer does not read
    const behind = await until("the blocks mined", async () => {
      const { report } = await statusJson("--config", config, "--failed-within", "0");
      return report.indexer.lag !== null && report.indexer.lag >= 60 ? report : undefined;
    });
    expect(behind.problems).toContain(`indexer: ${behind.indexer.lag} blocks behind the chain (at most 50)`);
    const { report } = await statusJson("--config", config, "--failed-within", "0", "--max-lag", "1000");
    expect(report.problems.some((p) => p.startsWith("indexer:"))).toBe(false);
  });

  it("bad flags exit 2", async () => {
    const r = await status("--max-lag", "many");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-lag is a whole number, not "many"');
    expect((await status("--url", "ftp://x")).code).toBe(2);
  });
});

describe("the database part", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "scr-status-db-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a database without the outbox tables reports the outbox unavailable", () => {
    const file = join(dir, "old.sqlite3");
    const db = new Database(file);
    db.exec("CREATE TABLE operations (id TEXT, kind TEXT, state TEXT, failure_reason TEXT, updated_at INTEGER)");
    db.exec("INSERT INTO operations VALUES ('a', 'transfer', 'pending', NULL, 1)");
    db.close();
    const s = readStoreStatus(file, { failedWithinSeconds: 60 });
    expect(s.outbox).toEqual({ available: false, reason: "this database has no deliveries table (no callback outbox yet)" });
    expect(s.operations.byState).toEqual({ pending: 1, submitted: 0, confirmed: 0, failed: 0 });
    expect(s.cursor).toBeNull();
  });

  it("lists the failing subscriptions, their callback without its query", () => {
    const file = join(dir, "outbox.sqlite3");
    const db = openDatabase(file).$client;
    const now = Date.now();
    db.prepare("INSERT INTO subscriptions (id, event_type, callback_url, enabled, created_at, updated_at) VALUES (?, 'onRelease', ?, 1, ?, ?)").run("sub-ok", "https://ok.example/cb", now, now);
    db.prepare("INSERT INTO subscriptions (id, event_type, callback_url, enabled, created_at, updated_at) VALUES (?, 'onRelease', ?, 1, ?, ?)").run("sub-bad", "https://bad.example/cb?token=s3cret", now, now);
    for (let seq = 1; seq <= 3; seq++) {
      db.prepare(
        "INSERT INTO event_log (sequence, event_id, type, kind, ordering_key, payload, block_number, tx_hash, log_index, created_at) VALUES (?, ?, 'onRelease', 'TRANSFER', 'release:x', '{}', 1, '0x', 0, ?)",
      ).run(seq, `e${seq}`, now);
    }
    const delivery = db.prepare(
      "INSERT INTO deliveries (subscription_id, sequence, ordering_key, state, attempts, last_status, last_error, created_at) VALUES (?, ?, 'release:x', ?, ?, ?, ?, ?)",
    );
    delivery.run("sub-ok", 1, "delivered", 1, 200, null, now);
    delivery.run("sub-bad", 2, "pending", 3, 500, "internal error", now - 1000);
    delivery.run("sub-bad", 3, "dead", 9, 503, "unavailable", now);
    db.close();

    const s = readStoreStatus(file, { failedWithinSeconds: 60 });
    expect(s.outbox).toEqual({
      available: true,
      backlog: 1,
      retrying: 1,
      dead: 1,
      oldestWaitingAt: new Date(now - 1000).toISOString(),
      failingSubscriptions: [
        { id: "sub-bad", eventType: "onRelease", callback: "https://bad.example/cb?…", enabled: true, disabledReason: null, waiting: 1, retrying: 1, dead: 1, lastStatus: 503, lastError: "unavailable" },
      ],
    });
    expect(JSON.stringify(s)).not.toContain("s3cret");
  });
});
