/**
 * The sandbox network of the embedded local chain, like the specification's UAT environment:
 * besides this gateway ("Test entity 1") a demo carrier, "Test entity 2" and a demo terminal,
 * each a real gateway of its own (own wallet, SQLite file and port) on the same chain. On the
 * first start they are registered, connected with entity 1, and a few releases are created,
 * transferred to entity 1 and given green lights, all through the parties' public API.
 *
 * Never started on a configured external chain.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, getAddress } from "ethers";
import type { Logger } from "pino";
import { localAdmin, type ConnectedChain } from "../adapters/chain/connect.js";
import { Role, interfaces, waitForReceipt } from "../adapters/chain/evm/contracts.js";
import { writeFileAtomic } from "../adapters/wallet/keystore.js";
import { parseConfig, resolveFrom, type LoadedConfig } from "../config/load.js";
import type { AppContext } from "../context.js";
import { ConnectionsService } from "../domain/connections/service.js";
import type { Gateway } from "../main.js";
import { SANDBOX_RELEASES } from "./seed-data.js";

export type SandboxPartyKey = "carrier" | "entity2" | "terminal";

export interface SandboxPartyInfo {
  key: SandboxPartyKey;
  name: string;
  vat: string;
  address: string;
  /** Where its API listens, e.g. http://127.0.0.1:5001 */
  url: string;
}

/** What `scr sandbox` reads to find the parties: `<dataDir>/sandbox/sandbox.json`. */
export interface SandboxState {
  entity1: { address: string; url: string };
  parties: SandboxPartyInfo[];
  baseURL: string;
  seededAt: string | null;
}

export interface Sandbox {
  state: SandboxState;
  parties: Record<SandboxPartyKey, Gateway>;
  /** Records where entity 1 (this gateway) listens, for `scr sandbox`. */
  listening(url: string): void;
  stop(): Promise<void>;
}

/** A sandbox that cannot start for a reason the user can fix. */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
}

const PARTIES: { key: SandboxPartyKey; name: string; vat: string; role: number; portOffset: number }[] = [
  { key: "carrier", name: "Demo Carrier NV", vat: "BE0000000099", role: Role.Carrier, portOffset: 1 },
  { key: "entity2", name: "Test entity 2", vat: "BE0000000002", role: Role.Transporter, portOffset: 2 },
  { key: "terminal", name: "Demo Terminal NV", vat: "BE0000000098", role: Role.Terminal, portOffset: 3 },
];

const FUNDS = "0x3635C9ADC5DEA00000"; // 1000 ether

export function sandboxDir(config: LoadedConfig): string {
  return join(resolveFrom(config.baseDir, config.dataDir), "sandbox");
}

export function readSandboxState(config: LoadedConfig): SandboxState | undefined {
  const file = join(sandboxDir(config), "sandbox.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SandboxState) : undefined;
}

/**
 * Starts the sandbox parties next to `entity1` (this gateway, before it listens, so the data
 * is there from its first answer) and seeds the network once. `start` is main's startGateway, passed in to keep the import graph
 * one-way.
 */
export async function startSandbox(opts: {
  config: LoadedConfig;
  chain: ConnectedChain;
  entity1: AppContext;
  /** Makes this gateway's indexer look for new blocks now. */
  kickEntity1: () => void;
  log: Logger;
  start: (config: LoadedConfig, log: Logger) => Promise<Gateway>;
}): Promise<Sandbox> {
  const { config, chain, entity1, log } = opts;
  const dir = sandboxDir(config);
  mkdirSync(dir, { recursive: true });
  const started: Gateway[] = [];
  const stop = async () => {
    for (const gw of started.reverse()) await gw.stop();
  };
  try {
    const parties = {} as Record<SandboxPartyKey, Gateway>;
    for (const p of PARTIES) {
      const partyDir = join(dir, p.key);
      const port = config.httpServer.port === 0 ? 0 : config.httpServer.port + p.portOffset;
      const partyConfig: LoadedConfig = {
        ...parseConfig({
          baseURL: config.baseURL,
          dataDir: partyDir,
          httpServer: { host: config.httpServer.host, port },
          chain: { rpcUrl: chain.rpcUrl, contracts: chain.addresses },
          log4js: { level: config.log4js.level === "off" ? "off" : "warn" },
        }),
        baseDir: partyDir,
        embedded: true,
      };
      // The parties log only what needs attention, so this gateway's own lines stay readable.
      const partyLog = log.child({ sandbox: p.key }, { level: config.log4js.level === "off" ? "silent" : "warn" });
      let gw: Gateway;
      try {
        gw = await opts.start(partyConfig, partyLog);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
        throw new SandboxError(
          `port ${port} of the sandbox's ${p.name} is in use: free it, choose another httpServer.port ` +
            `(the sandbox takes the next three), or set "chain": {"anvil": {"sandbox": false}}`,
        );
      }
      started.push(gw);
      parties[p.key] = gw;
      await register(chain, gw, p.name, p.vat, p.role);
    }

    const state: SandboxState = {
      entity1: { address: getAddress(entity1.chain!.wallet.address), url: "" },
      parties: PARTIES.map((p) => ({
        key: p.key,
        name: p.name,
        vat: p.vat,
        address: getAddress(parties[p.key].ctx.chain!.wallet.address),
        url: parties[p.key].url,
      })),
      baseURL: config.baseURL,
      seededAt: readSandboxState(config)?.seededAt ?? null,
    };
    if (!state.seededAt) {
      await seed({ entity1, kickEntity1: opts.kickEntity1, parties, baseURL: config.baseURL, log });
      state.seededAt = new Date().toISOString();
    }
    const save = () => writeFileAtomic(join(dir, "sandbox.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o644, overwrite: true });
    save();
    for (const p of state.parties) log.warn({ party: p.name, url: p.url, address: p.address }, "SANDBOX: party listening");
    const listening = (url: string) => {
      state.entity1.url = url;
      save();
    };
    return { state, parties, listening, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Funds the party's account and registers it (once) with the local registry administrator. */
async function register(chain: ConnectedChain, gw: Gateway, name: string, vat: string, role: number): Promise<void> {
  const wallet = gw.ctx.chain!.wallet;
  await chain.chain.provider.send("anvil_setBalance", [wallet.address, FUNDS]);
  if (!gw.ctx.store.findOrganization(wallet.address)) {
    const registry = new Contract(chain.addresses.organizationRegistry, interfaces.organizationRegistry, localAdmin(chain.chain.provider));
    if (!(await registry.getFunction("isRegistered")(wallet.address))) {
      const tx = await registry.getFunction("register")(wallet.address, name, vat, role, wallet.encryptionPublicKeyPem);
      await waitForReceipt(chain.chain.provider, tx.hash);
    }
  }
  await until(`${name} registered`, gw, () => gw.ctx.store.findOrganization(wallet.address));
}

type Kickable = { indexer: { kick(): void } };

/** Polls `fn`, kicking the gateways' indexers, until it returns something. */
async function until<T>(what: string, gws: Kickable | Kickable[], fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const list = Array.isArray(gws) ? gws : [gws];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const gw of list) gw.indexer.kick();
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`sandbox: timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Called {
  status: number;
  body: unknown;
  operationId: string | null;
}

/** A call to a party's REST API (the sandbox parties run without authentication). */
async function call(gw: Gateway, baseURL: string, method: string, path: string, body?: unknown): Promise<Called> {
  const res = await fetch(`${gw.url}${baseURL === "/" ? "" : baseURL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (res.status >= 300) throw new Error(`sandbox: ${method} ${path} answered ${res.status} ${text}`);
  return { status: res.status, body: parsed, operationId: res.headers.get("operation-id") };
}

async function confirmed(gw: Gateway, operationId: string | null): Promise<void> {
  if (!operationId) throw new Error("sandbox: a write answered without an operation id");
  const op = await gw.ctx.chain!.pipeline.settled(operationId, 120_000);
  if (op.state !== "confirmed") throw new Error(`sandbox: operation ${op.kind} ${op.state}: ${op.failureReason ?? "not confirmed in time"}`);
}

/**
 * The first start's data: the carrier and entity 2 connected with entity 1, and releases
 * created by the carrier, transferred to entity 1, with the terminal's green lights.
 */
async function seed(opts: {
  entity1: AppContext;
  kickEntity1: () => void;
  parties: Record<SandboxPartyKey, Gateway>;
  baseURL: string;
  log: Logger;
}): Promise<void> {
  const { entity1, parties, baseURL, log } = opts;
  const { carrier, entity2, terminal } = parties;
  const all: Kickable[] = [carrier, entity2, terminal, { indexer: { kick: opts.kickEntity1 } }];
  const self = entity1.identity.self();
  log.warn("SANDBOX: seeding the sandbox network (first start only)…");

  // 1. The carrier and entity 2 invite entity 1, which accepts.
  const connections = new ConnectionsService({
    repo: entity1.store.connections,
    orgs: entity1.store,
    identity: entity1.identity,
    chain: entity1.chain,
    transaction: (fn) => entity1.store.transaction(fn),
  });
  for (const inviter of [carrier, entity2]) {
    const invited = await call(inviter, baseURL, "POST", "/invitations", {
      reference: "TEST-ENTITY-1",
      name: self.name,
      vat: self.vat,
      contactEmail: "sandbox@example.org",
    });
    const id = (invited.body as { id: string }).id;
    await until("entity 1 received the invitation", all, () =>
      entity1.store.connections.findInvitation(id)?.status === "pending" ? true : undefined,
    );
    connections.accept({ id, idempotencyKey: `sandbox-accept-${id}` });
    const inviterAddress = inviter.ctx.chain!.wallet.address.toLowerCase();
    await until("the connection is made", all, () =>
      inviter.ctx.store.connections.isConnected(self.address.toLowerCase()) && entity1.store.connections.isConnected(inviterAddress) ? true : undefined,
    );
  }

  // 2. Releases: created at the carrier for the demo terminal, then transferred to entity 1.
  const terminalAddress = getAddress(terminal.ctx.chain!.wallet.address);
  for (const [i, seedRelease] of SANDBOX_RELEASES.entries()) {
    const created = await call(carrier, baseURL, "POST", "/carrier/releases", {
      release_data: seedRelease.data,
      pincode: seedRelease.pincode,
      terminal: terminalAddress,
      idempotency_key: `sandbox-release-${i}`,
    });
    const address = (created.body as { address: string }).address;
    await confirmed(carrier, created.operationId);
    await until("the carrier and the terminal see the release", all, () =>
      carrier.ctx.store.findRelease(address) && terminal.ctx.store.findRelease(address) ? true : undefined,
    );
    const transferred = await call(carrier, baseURL, "PUT", `/releases/${address}/transfer`, { address: self.address });
    const lights = await call(terminal, baseURL, "PUT", `/terminal/releases/${address}/green_lights`, {
      source: "NxtPort",
      events: seedRelease.greenLights,
    });
    await confirmed(carrier, transferred.operationId);
    await confirmed(terminal, lights.operationId);
  }
  await until("entity 1 holds the sandbox releases", all, () =>
    entity1.releases.list(self, { limit: 0, page: 0, since: "", bl: "", container: "" }).length >= SANDBOX_RELEASES.length ? true : undefined,
  );
  log.warn({ releases: SANDBOX_RELEASES.length }, "SANDBOX: seeded");
}
