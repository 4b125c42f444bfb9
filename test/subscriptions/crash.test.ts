/**
 * A gateway killed with SIGKILL in the middle of deliveries and started again: nothing is
 * lost, and a callback made twice carries the same event id (and the same body).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import type { Gateway } from "../../src/main.js";
import { rest, startNetwork, until, type TestNetwork } from "../support/network.js";
import { createRelease, type CreatedRelease } from "../support/releases.js";
import { Receiver } from "./receiver.js";

const script = fileURLToPath(new URL("./gateway-process.ts", import.meta.url));

let net: TestNetwork;
let carrier: Gateway;
let rx: Receiver;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  net = await startNetwork();
  carrier = await net.join("Carrier NV", "BE0000000401", Role.Carrier);
  rx = await Receiver.start();
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await net?.stop();
  await rx?.stop();
});

/** Starts the gateway process; resolves with it once it listens. */
function startChild(config: object, dir: string): Promise<{ child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }> }> {
  return new Promise((resolve, reject) => {
    // One process (no tsx wrapper), so the SIGKILL hits the gateway itself.
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, CONFIG: JSON.stringify(config), DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let out = "";
    let err = "";
    const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
      child.on("exit", (code, signal) => {
        children.delete(child);
        done({ code, signal });
      }),
    );
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("listening ")) resolve({ child, exited });
    });
    child.stderr!.on("data", (d) => (err += d));
    void exited.then(({ code, signal }) => reject(new Error(`gateway process ended (${code ?? signal}) before listening: ${err}`)));
  });
}

describe("a gateway killed with SIGKILL in the middle of deliveries", () => {
  it("delivers every event after the restart; duplicates carry the same event id", async () => {
    // The forwarder is set up in this process (registered, connected, subscribed), then run
    // as a child process on the same data directory.
    const f = await net.join("Forwarder F", "BE0000000402", Role.Forwarder, { subscriptions: { concurrency: 4, pollIntervalMs: 100 } });
    await net.connect(carrier, f);
    expect((await rest(f, "POST", "/subscriptions", { eventType: "onRelease", callback_url: rx.url })).status).toBe(200);
    const dir = f.ctx.config.baseDir;
    const { baseDir: _b, embedded: _e, ...config } = f.ctx.config as typeof f.ctx.config & { embedded?: boolean };
    const forwarder = getAddress(f.ctx.chain!.wallet.address);
    await f.stop();

    // Slow answers: callbacks are in flight when the process dies.
    rx.behaviour = { status: 200, delayMs: 300 };
    const first = await startChild(config, dir);

    const releases: CreatedRelease[] = [];
    for (let i = 0; i < 4; i++) releases.push(await createRelease(net, carrier));
    for (const r of releases) expect((await rest(carrier, "PUT", `/releases/${r.id}/transfer`, { address: forwarder })).status).toBe(202);
    const { ledger, pipeline, crypto, wallet } = carrier.ctx.chain!;
    const fPem = (await rest(carrier, "GET", "/connections")).body.find((c: { address: string }) => c.address === forwarder).publicKey as string;
    for (let round = 0; round < 8; round++) {
      for (const r of releases) {
        const sealed = crypto.sealData(r.data, [wallet.encryptionPublicKeyPem, fPem]);
        pipeline.submit({ kind: "update_release", release: r.id, ...ledger.update(r.id, sealed.sealedData, [wallet.address, forwarder], sealed.wrappedKeys) });
      }
    }
    const total = releases.length * 9; // a transfer and 8 updates each

    await until("some callbacks", () => (rx.received.length >= 6 ? true : undefined), 60_000);
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const atKill = rx.received.length;
    expect(atKill).toBeLessThan(total);

    rx.behaviour = { status: 200 };
    const second = await startChild(config, dir);
    await until("every event delivered", () => (new Set(rx.received.map((x) => x.headers["webhook-id"])).size >= total ? true : undefined), 120_000);
    await new Promise((r) => setTimeout(r, 500));
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const store = SqliteStore.open(join(dir, "db.sqlite3"));
    const log = store.subscriptions.eventsAfter(0, 10_000);
    const subscription = store.subscriptions.listSubscriptions()[0]!;
    const states = store.subscriptions.listDeliveries(subscription.id, { afterSequence: 0, limit: 10_000 }).map((d) => d.state);
    store.close();

    expect(log).toHaveLength(total);
    expect(states).toEqual(Array<string>(total).fill("delivered"));
    const ids = rx.received.map((x) => x.headers["webhook-id"] as string);
    expect(new Set(ids)).toEqual(new Set(log.map((e) => e.eventId)));
    // At least the callbacks in flight at the kill were made again; each duplicate is the same
    // event: same id in the header and the body, same body.
    const byId = new Map<string, string[]>();
    for (const x of rx.received) byId.set(x.headers["webhook-id"] as string, [...(byId.get(x.headers["webhook-id"] as string) ?? []), x.raw]);
    const duplicates = [...byId.values()].filter((bodies) => bodies.length > 1);
    expect(duplicates.length).toBeGreaterThan(0);
    for (const bodies of duplicates) expect(new Set(bodies).size).toBe(1);
    for (const x of rx.received) expect(x.body.eventId).toBe(x.headers["webhook-id"]);
    // In order per release: first arrivals follow the event log.
    for (const r of releases) {
      const firsts = [...new Set(rx.received.filter((x) => x.body.release === r.id).map((x) => x.headers["webhook-id"]))];
      expect(firsts).toEqual(log.filter((e) => JSON.parse(e.payload).release === r.id).map((e) => e.eventId));
    }
  }, 300_000);
});
