/**
 * `npm start` on the embedded defaults: the sandbox network is there from the first answer,
 * and `scr sandbox` drives the other parties.
 */
import { createServer, type AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxCommand } from "../../src/cli/sandbox.js";
import { parseConfig, type LoadedConfig } from "../../src/config/load.js";
import { startGateway, type Gateway } from "../../src/main.js";

let dir: string;
let config: LoadedConfig;
let configFile: string;
let gw: Gateway;

const BASE = "/tmining/api/v1";

async function get(path: string): Promise<any> {
  const res = await fetch(`${gw.url}${BASE}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

async function scr(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (s: string) => void) => new Writable({ write: (c, _e, cb) => (append(String(c)), cb()) });
  const code = await sandboxCommand([...argv, "--config", configFile], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  });
  return { code, stdout, stderr };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    gw.indexer.kick();
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scr-sandbox-"));
  config = { ...parseConfig({ dataDir: dir, httpServer: { port: 0 }, chain: { anvil: { stateIntervalSeconds: 1 } } }), baseDir: dir, embedded: true };
  configFile = join(dir, "configuration.json");
  writeFileSync(configFile, JSON.stringify({ dataDir: dir }));
  gw = await startGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
}, 240_000);

afterAll(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the sandbox network of npm start", () => {
  it("answers GET /releases with the seeded releases, green lights included, at once", async () => {
    // Releases created in the same second are listed by address: compare by bill of lading.
    const releases = ((await get("/releases")) as any[]).sort((a, b) => a.release_data.billOfLading.blNumber.localeCompare(b.release_data.billOfLading.blNumber));
    expect(releases.map((r) => r.release_data.billOfLading.blNumber)).toEqual(["SANDBOX-BL-0001", "SANDBOX-BL-0002", "SANDBOX-BL-0003"]);
    expect(releases.map((r) => r.greenLights.total)).toEqual(["green", "yellow", "red"]);
    for (const r of releases) {
      expect(r.owner).toBe(r.selfOwner);
      expect(r.selfOwnerName).toBe("Test entity 1");
      expect(r.previousOwnerName).toBe("Demo Carrier NV");
      expect(r.greenLights.source).toBe("NxtPort");
    }
  });

  it("connects Test entity 1 with the demo carrier and Test entity 2", async () => {
    const connections = (await get("/connections")) as { name: string; vat: string }[];
    expect(connections.map((c) => c.name).sort()).toEqual(["Demo Carrier NV", "Test entity 2"]);
    const info = await scr("info");
    expect(info.code).toBe(0);
    for (const name of ["SANDBOX", "Test entity 1", "Demo Carrier NV", "Test entity 2", "Demo Terminal NV"]) expect(info.stdout).toContain(name);
  });

  it("scr sandbox create-release: the carrier creates one more and transfers it to entity 1", async () => {
    const created = await scr("create-release", "--bl", "SANDBOX-BL-CLI", "--pin", "4242");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const release = await until("the new release at entity 1", async () => ((await get("/releases?bl=SANDBOX-BL-CLI")) as any[])[0]);
    expect(release.creator).toBe(release.previousOwner);
    const pin = await fetch(`${gw.url}${BASE}/releases/${release.address}/pincode`);
    expect(await pin.json()).toEqual({ pincode: "4242" });

    // Entity 2's side, through its own API.
    const conn = await scr("call", "entity2", "GET", "/connections");
    expect(conn.code).toBe(0);
    expect(conn.stdout).toContain("Test entity 1");

    const lights = await scr("green-lights", release.address, "customs=selectedforscan");
    expect(lights.code).toBe(0);
    await until("customs yellow", async () => {
      const r = await get(`/releases/${release.address}`);
      return r.greenLights.events.customs.color === "yellow" ? r : undefined;
    });
    const bad = await scr("green-lights", release.address, "nolight=1");
    expect(bad.code).toBe(2);
  });

  it("a restart on the same data keeps the network and does not seed again", async () => {
    await gw.stop();
    gw = await startGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
    const releases = (await get("/releases")) as any[];
    expect(releases.map((r) => r.release_data.billOfLading.blNumber).sort()).toEqual(["SANDBOX-BL-0001", "SANDBOX-BL-0002", "SANDBOX-BL-0003", "SANDBOX-BL-CLI"]);
  }, 120_000);
});

describe("a sandbox that cannot start", () => {
  it("names the busy port and how to avoid it, and leaves nothing running", async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(free + 1, "127.0.0.1", resolve));
    const other = mkdtempSync(join(tmpdir(), "scr-sandbox-busy-"));
    try {
      const cfg = { ...parseConfig({ dataDir: other, httpServer: { port: free } }), baseDir: other, embedded: true };
      const started = startGateway(cfg, pino({ level: "silent" }));
      await expect(started).rejects.toMatchObject({ name: "SandboxError", message: expect.stringContaining(`port ${free + 1}`) });
      await expect(started).rejects.toThrow(/"sandbox": false/);
    } finally {
      busy.close();
      rmSync(other, { recursive: true, force: true });
    }
  }, 120_000);
});
