/**
 * Graceful shutdown of the real command: `scr start --config <file>` in a child process on a
 * test chain, under a stream of concurrent requests, gets SIGTERM. Every response that
 * arrived is whole and valid, the process exits 0, and after a restart on the same data
 * directory every write it had accepted is still there.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { localAdmin } from "../../src/adapters/chain/connect.js";
import { startNetwork, type TestNetwork } from "../support/network.js";

const SCR = fileURLToPath(new URL("../../src/cli/scr.js", import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 10_000;
const WORKERS = 8;
/** SIGTERM is sent once this many responses have arrived: mid-load, whatever the speed. */
const SIGTERM_AFTER = 40;

let chain: TestNetwork;
let dir: string;
let configFile: string;
const env = { ...process.env, SCR_WALLET_PASSPHRASE: "shutdown-test-passphrase" };
const children: ChildProcess[] = [];

async function scr(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [SCR, ...args], { env });
  return stdout;
}

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `scr start --config <file>`; resolves once it logs that it listens. */
async function start(): Promise<Running> {
  const child = spawn(process.execPath, [SCR, "start", "--config", configFile], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.msg === "scr-gateway listening") resolve(record.url!);
    });
    void exited.then(({ code }) => reject(new Error(`scr start exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exited };
}

beforeAll(async () => {
  chain = await startNetwork();
  dir = mkdtempSync(join(tmpdir(), "scr-shutdown-"));
  configFile = join(dir, "configuration.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: "./data",
      httpServer: { port: 0, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
      log4js: { level: "info" },
      chain: { rpcUrl: chain.anvil.rpcUrl, contracts: chain.addresses },
    }),
  );
  writeFileSync(join(dir, "admin.key"), localAdmin(chain.provider).privateKey + "\n");
  await scr("wallet", "init", "--config", configFile);
  const wallet = JSON.parse(await scr("wallet", "show", "--config", configFile, "--json")) as { address: string };
  await chain.provider.send("anvil_setBalance", [wallet.address, "0x3635C9ADC5DEA00000"]);
  await scr("org", "register", "--config", configFile, "--key-file", join(dir, "admin.key"), "--name", "Shutdown Forwarder", "--vat", "NL000000999B01", "--role", "forwarder");
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  kind: "invite" | "list-invitations" | "list-releases" | "connect";
  status: number;
  text: string;
  key?: string;
}

/**
 * One request of the mix. Throws when no response arrived (refused, reset, cut before the
 * status line); a response cut after its headers is an outcome, which the checks refuse.
 */
async function request(url: string, worker: number, i: number): Promise<Outcome> {
  const rest = `${url}/tmining/api/v1`;
  const read = async (kind: Outcome["kind"], res: Response, key?: string): Promise<Outcome> => {
    const text = await res.text().catch((err: unknown) => `<the body was cut: ${String(err)}>`);
    return { kind, status: res.status, text, key };
  };
  switch (i % 4) {
    case 0: {
      const key = `shutdown-${worker}-${i}`;
      const body = {
        name: `Invitee ${worker}-${i}`,
        vat: `BE${1_000_000_000 + worker * 10_000 + i}`,
        contactEmail: `ops-${worker}-${i}@example.org`,
      };
      const res = await fetch(`${rest}/invitations`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
      });
      return read("invite", res, key);
    }
    case 1:
      return read("list-invitations", await fetch(`${rest}/invitations`));
    case 2:
      return read("list-releases", await fetch(`${rest}/releases`));
    default:
      return read(
        "connect",
        await fetch(`${url}/scr.v1.ConnectionService/ListInvitations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }),
      );
  }
}

/** What a complete, valid response of each kind looks like. */
function checkOutcome(o: Outcome): void {
  expect(o.status, `${o.kind}: ${o.text}`).toBe(200);
  const body = JSON.parse(o.text) as Record<string, unknown> | unknown[]; // a truncated body does not parse
  switch (o.kind) {
    case "invite":
      expect(body).toMatchObject({ id: expect.stringMatching(/^0x[0-9a-f]{64}$/), direction: "outgoing" });
      break;
    case "list-invitations":
    case "list-releases":
      expect(Array.isArray(body)).toBe(true);
      break;
    case "connect":
      expect(typeof body).toBe("object");
      break;
  }
}

/**
 * A POST /invitations that is surely in flight: its headers are sent with
 * `Expect: 100-continue`, and the server's 100 Continue says it has begun handling it. The
 * body goes out when `send()` is called.
 */
async function requestInFlight(url: string): Promise<{ send(): Promise<{ status: number; connection?: string; text: string }> }> {
  const body = JSON.stringify({ name: "Slow Invitee", vat: "BE0999990001", contactEmail: "slow@example.org" });
  const req = http.request(`${url}/tmining/api/v1/invitations`, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), expect: "100-continue", "idempotency-key": "shutdown-slow" },
  });
  const response = new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
    req.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.once("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
      res.once("error", reject);
    });
    req.once("error", reject);
  });
  response.catch(() => {}); // reported by send(), if it is ever called
  await new Promise<void>((resolve, reject) => {
    req.once("continue", resolve);
    req.once("error", reject);
  });
  return {
    send() {
      req.end(body);
      return response;
    },
  };
}

/** Resolves once nothing listens on the URL's port any more: the gateway has begun to close. */
async function refused(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), hostname);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (!accepted) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("SIGTERM mid-load: whole responses only, exit 0, and every accepted write survives a restart", async () => {
  const first = await start();
  const slow = await requestInFlight(first.url);
  const outcomes: Outcome[] = [];
  const failures: unknown[] = [];
  let signalled = false;
  let onSignal!: () => void;
  const sigterm = new Promise<void>((resolve) => (onSignal = resolve));
  const worker = async (n: number) => {
    for (let i = n % 4; ; i++) {
      try {
        outcomes.push(await request(first.url, n, i));
      } catch (err) {
        failures.push(err);
        return; // the gateway no longer answers this worker
      }
      if (!signalled && outcomes.length >= SIGTERM_AFTER) {
        signalled = true;
        first.child.kill("SIGTERM");
        onSignal();
      }
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));
  // The request begun before SIGTERM is finished after the gateway stopped accepting, and
  // is answered in full, telling the client not to reuse the connection.
  await sigterm;
  await refused(first.url);
  const late = await slow.send();
  expect(late.status, late.text).toBe(200);
  expect(late.connection).toBe("close");
  expect(JSON.parse(late.text)).toMatchObject({ id: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
  await load;
  const exit = await first.exited;

  expect(signalled).toBe(true);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(outcomes.length).toBeGreaterThanOrEqual(SIGTERM_AFTER);
  for (const o of outcomes) checkOutcome(o);
  // Each worker stopped on a refused or cut request, never on an error response.
  expect(failures).toHaveLength(WORKERS);
  const accepted = outcomes.filter((o) => o.kind === "invite").map((o) => ({ key: o.key!, id: (JSON.parse(o.text) as { id: string }).id }));
  accepted.push({ key: "shutdown-slow", id: (JSON.parse(late.text) as { id: string }).id });
  expect(accepted.length).toBeGreaterThan(0);

  // The same data directory opens again; every accepted write is there, with its operation.
  const second = await start();
  try {
    const rest = `${second.url}/tmining/api/v1`;
    expect((await fetch(`${second.url}/readyz`)).status).toBeLessThan(600); // answers (the indexer may still catch up)
    const operations = (await (await fetch(`${rest}/operations?limit=1000`)).json()) as { id: string; idempotencyKey: string | null; state: string; kind: string }[];
    const invitations = (await (await fetch(`${rest}/invitations`)).json()) as { id: string }[];
    for (const { key, id } of accepted) {
      const op = operations.find((o) => o.idempotencyKey === key);
      expect(op, `the operation of ${key}`).toBeDefined();
      const one = await fetch(`${rest}/operations/${op!.id}`);
      expect(one.status).toBe(200);
      expect(await one.json()).toMatchObject({ id: op!.id, kind: op!.kind, idempotencyKey: key });
      // An invitation leaves only when the chain refused it (its operation failed).
      if (op!.state !== "failed") expect(invitations.map((inv) => inv.id)).toContain(id);
    }
  } finally {
    second.child.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }

  const db = new Database(join(dir, "data", "db.sqlite3"), { readonly: true });
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  } finally {
    db.close();
  }
}, 180_000);
