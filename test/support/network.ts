/**
 * Several real gateways (own wallets and SQLite files) on one real anvil, with the contracts
 * deployed by the registry administrator: the test network of the end-to-end tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, JsonRpcProvider, NonceManager } from "ethers";
import pino from "pino";
import { startAnvil, type AnvilHandle } from "../../src/adapters/chain/devnet/anvil.js";
import { localAdmin } from "../../src/adapters/chain/connect.js";
import { deployAll, interfaces, waitForReceipt, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { parseConfig, type ConfigInput } from "../../src/config/load.js";
import { startGateway, type Gateway } from "../../src/main.js";

export const BASE = "/tmining/api/v1";

export interface RestResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Polls `fn` until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A REST call to a gateway under the base URL; the body is parsed JSON (undefined when empty). */
export async function rest(gw: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RestResponse> {
  const res = await fetch(`${gw.url}${BASE}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export interface TestNetwork {
  anvil: AnvilHandle;
  provider: JsonRpcProvider;
  /** The registry administrator; one nonce sequence for every admin transaction. */
  admin: NonceManager;
  addresses: ContractAddresses;
  gateways: Gateway[];
  /** Starts a gateway and registers its organisation with the given role (a `Role`). */
  join(name: string, vat: string, role: number, config?: ConfigInput): Promise<Gateway>;
  /** Starts a gateway whose organisation is not registered (yet). */
  startUnregistered(config?: ConfigInput): Promise<Gateway>;
  /** The registry administrator registers the gateway's organisation; resolves once it has indexed it. */
  register(gw: Gateway, name: string, vat: string, role: number): Promise<void>;
  /** Kicks every indexer and polls `fn` until it returns something. */
  settle<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs?: number): Promise<T>;
  /** `inviter` invites `invitee` over REST, the invitee accepts, and both see the connection. */
  connect(inviter: Gateway, invitee: Gateway, reference?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetwork(opts: { mixedMiningSeconds?: number } = {}): Promise<TestNetwork> {
  const anvil = await startAnvil({ mixedMiningSeconds: opts.mixedMiningSeconds ?? 0.5 });
  const provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const admin = new NonceManager(localAdmin(provider));
  const addresses = await deployAll(admin);
  const dirs: string[] = [];
  const gateways: Gateway[] = [];

  const settle: TestNetwork["settle"] = (what, fn, timeoutMs) =>
    until(
      what,
      async () => {
        for (const gw of gateways) gw.indexer.kick();
        return fn();
      },
      timeoutMs,
    );

  const startUnregistered: TestNetwork["startUnregistered"] = async (config = {}) => {
    const dir = mkdtempSync(join_(tmpdir(), "scr-net-"));
    dirs.push(dir);
    const loaded = {
      ...parseConfig({ ...config, dataDir: dir, httpServer: { port: 0, ...config.httpServer }, chain: { rpcUrl: anvil.rpcUrl, contracts: addresses, ...config.chain } }),
      baseDir: dir,
      embedded: true,
    };
    const gw = await startGateway(loaded, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
    gateways.push(gw);
    await provider.send("anvil_setBalance", [gw.ctx.chain!.wallet.address, "0x3635C9ADC5DEA00000"]);
    return gw;
  };

  const register: TestNetwork["register"] = async (gw, name, vat, role) => {
    const wallet = gw.ctx.chain!.wallet;
    const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, admin);
    const tx = await registry.getFunction("register")(wallet.address, name, vat, role, wallet.encryptionPublicKeyPem);
    await waitForReceipt(provider, tx.hash);
    await settle(`${name} indexed`, () => gw.ctx.store.findOrganization(wallet.address));
  };

  const join: TestNetwork["join"] = async (name, vat, role, config = {}) => {
    const gw = await startUnregistered(config);
    await register(gw, name, vat, role);
    return gw;
  };

  const connect: TestNetwork["connect"] = async (inviter, invitee, reference) => {
    const inviteeOrg = invitee.ctx.identity.self();
    const created = await rest(inviter, "POST", "/invitations", {
      reference,
      name: inviteeOrg.name,
      vat: inviteeOrg.vat,
      contactEmail: "ops@example.org",
    });
    if (created.status !== 200) throw new Error(`invitation failed: ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id as string;
    await settle("the invitation reaches the invitee", async () => {
      const list = (await rest(invitee, "GET", "/invitations?direction=incoming&status=pending")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    const accepted = await rest(invitee, "PUT", `/invitations/${id}/accept`);
    if (accepted.status >= 300) throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
    const inviterAddress = inviter.ctx.chain!.wallet.address.toLowerCase();
    const inviteeAddress = invitee.ctx.chain!.wallet.address.toLowerCase();
    await settle("both sides connected", () =>
      inviter.ctx.store.connections.isConnected(inviteeAddress) && invitee.ctx.store.connections.isConnected(inviterAddress) ? true : undefined,
    );
  };

  return {
    anvil,
    provider,
    admin,
    addresses,
    gateways,
    join,
    startUnregistered,
    register,
    settle,
    connect,
    async stop() {
      for (const gw of gateways) await gw.stop();
      provider.destroy();
      await anvil.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const join_ = join;
