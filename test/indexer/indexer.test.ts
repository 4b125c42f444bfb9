import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Interface, getAddress, hexlify, randomBytes } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, deployAll, interfaces, waitForReceipt, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { EvmChain } from "../../src/adapters/chain/evm/evm-chain.js";
import { ScrProjection, type CommittedBatch, type ScrPrepared } from "../../src/adapters/chain/evm/projection.js";
import { encodeGreenLights, pinToHex, sealReleaseFor } from "../../src/adapters/chain/evm/release-codec.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { sealFor } from "../../src/adapters/wallet/envelope.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { Indexer, type IndexerOptions } from "../../src/domain/indexer/indexer.js";
import type { Projection } from "../../src/domain/indexer/projection.js";
import type { ReleaseData } from "../../src/domain/releases/model.js";
import type { Chain } from "../../src/ports/chain.js";
import type { Wallet } from "../../src/ports/wallet.js";
import { specGreenLights, specReleaseData } from "../support/gateway.js";
import { scrClient, startTestAnvil, type ScrClient, type TestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
let addresses: ContractAddresses;
let scr: ScrClient;
/** The organisation whose gateway indexes: a forwarder with real keys. */
let self: Wallet;
/** RSA keys of the carrier (account 1) and the terminal (account 5); they sign with anvil accounts. */
let carrierKeys: Wallet;
let terminalKeys: Wallet;
const carrier = () => chain.wallet(1);
const terminal = () => chain.wallet(5);
const other = () => chain.wallet(2);
const SELF_VAT = "BE0000000001";

const quiet = pino({ level: "silent" });
const tmpFile = () => join(mkdtempSync(join(tmpdir(), "scr-indexer-")), "db.sqlite3");
const newId = () => getAddress(hexlify(randomBytes(20)));
const hex = (b: Uint8Array) => hexlify(b);

const releaseData = (bl: string): ReleaseData => specReleaseData(bl);

/** Sends a transaction signed by a gateway wallet (the Wallet port signs raw transactions). */
async function sendAs(wallet: Wallet, to: string, data: string) {
  const provider = chain.provider;
  const [nonce, gas, fees] = await Promise.all([
    provider.getTransactionCount(wallet.address, "pending"),
    provider.estimateGas({ from: wallet.address, to, data }),
    provider.getFeeData(),
  ]);
  const raw = await wallet.signTransaction({
    to,
    data,
    nonce,
    chainId: BigInt(chain.chainId),
    gasLimit: (gas * 3n) / 2n,
    maxFeePerGas: fees.maxFeePerGas ?? 10_000_000_000n,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1n,
  });
  const hash = (await provider.send("eth_sendRawTransaction", [raw])) as string;
  return waitForReceipt(provider, hash, { timeoutMs: 20_000, pollMs: 20 });
}

interface Created {
  id: string;
  data: ReleaseData;
  /** Wrapped keys for [carrier, self, terminal]. */
  keys: Uint8Array[];
  pinForSelf: Uint8Array;
}

/** The carrier creates a release (terminal set) and, unless `transfer` is false, transfers it to self. */
async function createRelease(bl: string, opts: { transfer?: boolean } = {}): Promise<Created> {
  const id = newId();
  const data = releaseData(bl);
  const sealed = sealReleaseFor(data, [carrierKeys.encryptionPublicKeyPem, self.encryptionPublicKeyPem, terminalKeys.encryptionPublicKeyPem]);
  const pin = new TextEncoder().encode("1234");
  await scr.send(
    carrier(),
    "releaseRegistry",
    "create",
    id,
    terminal().address,
    hex(sealed.sealedData),
    hex(sealed.wrappedKeys[0]!),
    hex(sealFor(carrierKeys.encryptionPublicKeyPem, pin)),
    hex(sealFor(terminalKeys.encryptionPublicKeyPem, pin)),
  );
  const pinForSelf = sealFor(self.encryptionPublicKeyPem, pin);
  if (opts.transfer !== false) {
    await scr.send(carrier(), "releaseRegistry", "transfer", id, self.address, hex(sealed.wrappedKeys[1]!), hex(pinForSelf));
  }
  return { id, data, keys: sealed.wrappedKeys, pinForSelf };
}

/** The carrier replaces the data of a release owned by self, re-wrapping for carrier and self. */
async function updateRelease(id: string, bl: string) {
  const data = releaseData(bl);
  const sealed = sealReleaseFor(data, [carrierKeys.encryptionPublicKeyPem, self.encryptionPublicKeyPem]);
  const receipt = await scr.send(
    carrier(),
    "releaseRegistry",
    "update",
    id,
    hex(sealed.sealedData),
    [carrier().address, self.address],
    sealed.wrappedKeys.map(hex),
  );
  return { data, receipt };
}

function openGateway(file = tmpFile(), opts: Partial<IndexerOptions<ScrPrepared>> & { evm?: Chain } = {}) {
  const store = SqliteStore.open(file);
  const evm = new EvmChain({ rpcUrl: chain.rpcUrl, decodeRevert: () => null });
  const log = opts.log ?? quiet;
  const projection = new ScrProjection({ provider: evm.provider, addresses, store, repository: store.indexer, wallet: self, log });
  const indexer = new Indexer<ScrPrepared>({
    chain: opts.evm ?? evm,
    state: store.indexer,
    projection,
    log,
    contracts: { ...addresses },
    rpcUrl: chain.rpcUrl,
    pollIntervalMs: 50,
    ...opts,
  });
  const close = async () => {
    await indexer.stop();
    evm.destroy();
    store.close();
  };
  return { file, store, evm, projection, indexer, close };
}

/** Every log of our contracts on the chain, independently of the indexer: "contract.Event" → count. */
async function expectedCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [key, address] of Object.entries(addresses) as [keyof ContractAddresses, string][]) {
    const iface: Interface = interfaces[key];
    const logs = await chain.provider.getLogs({ address, fromBlock: 0, toBlock: "latest" });
    for (const l of logs) {
      const name = iface.parseLog(l)?.name;
      if (name) counts[`${key}.${name}`] = (counts[`${key}.${name}`] ?? 0) + 1;
    }
  }
  return counts;
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  chain = await startTestAnvil();
  addresses = await deployAll(chain.wallet(0));
  scr = scrClient(chain, addresses);
  self = createEphemeralWallet();
  carrierKeys = createEphemeralWallet();
  terminalKeys = createEphemeralWallet();
  await chain.provider.send("anvil_setBalance", [self.address, "0x56BC75E2D63100000"]);
  const admin = chain.wallet(0);
  await scr.send(admin, "organizationRegistry", "register", carrier().address, "Carrier NV", "BE0000000011", Role.Carrier, carrierKeys.encryptionPublicKeyPem);
  await scr.send(admin, "organizationRegistry", "register", terminal().address, "Terminal NV", "BE0000000015", Role.Terminal, terminalKeys.encryptionPublicKeyPem);
  await scr.send(admin, "organizationRegistry", "register", self.address, "Forwarder NV", SELF_VAT, Role.Forwarder, self.encryptionPublicKeyPem);
  await scr.send(admin, "organizationRegistry", "register", other().address, "Other Forwarder", "BE0000000012", Role.Forwarder, "pem-other");
  const invitation = hexlify(randomBytes(32));
  await scr.send(carrier(), "connections", "invite", invitation, SELF_VAT, "Forwarder NV", "ops@example.com");
  await sendAs(self, addresses.connections, interfaces.connections.encodeFunctionData("accept", [invitation]));
});

afterAll(async () => {
  await chain?.stop();
});

describe("indexer over the SCR contracts", () => {
  it("releases transferred to this organisation appear decrypted, with owners and green lights; organisations appear", async () => {
    const mine = await createRelease("BL-MINE-1");
    const notMine = await createRelease("BL-NOT-MINE", { transfer: false });
    const lights = specGreenLights();
    await scr.send(terminal(), "releaseRegistry", "setGreenLights", mine.id, hex(encodeGreenLights(lights)));

    const gw = openGateway();
    const batches: CommittedBatch[] = [];
    gw.projection.onCommitted((b) => batches.push(b));
    try {
      const status = await gw.indexer.catchUp();
      const head = await chain.provider.getBlockNumber();
      expect(status).toMatchObject({ head, indexedThrough: head, lag: 0, catchingUp: false, lastError: null });

      const r = gw.store.findRelease(mine.id)!;
      expect(r).toBeDefined();
      expect(r.data).toEqual(mine.data);
      expect(r.owners).toEqual([carrier().address.toLowerCase(), self.address.toLowerCase()]);
      expect(r.creator).toBe(carrier().address.toLowerCase());
      expect(r.terminal).toBe(terminal().address.toLowerCase());
      expect(r.encryptedPin).toBe(pinToHex(mine.pinForSelf));
      expect(r.encryptedPin).toMatch(/^[0-9a-f]+$/);
      expect(r.version).toBe("1.0.0");
      expect(r.greenLights).toEqual(lights);
      expect(r.greenLights.total).toBe("green");
      expect([r.deleted, r.blocked, r.pinRetrieved, r.gateOut]).toEqual([false, false, false, null]);
      const onChain = await scr.read("releaseRegistry", "getRelease", mine.id);
      expect(r.createdAt.getTime()).toBe(Number(onChain.createdAt) * 1000);
      expect(r.updatedAt.getTime()).toBe(Number(onChain.updatedAt) * 1000);
      expect(gw.store.listReleases({ visibleTo: self.address, limit: 0, page: 1 }).map((x) => x.address)).toContain(mine.id.toLowerCase());

      // Not a party: not in this organisation's cache.
      expect(gw.store.findRelease(notMine.id)).toBeUndefined();

      expect(gw.store.findOrganization(carrier().address)).toEqual({ address: carrier().address.toLowerCase(), name: "Carrier NV", vat: "BE0000000011" });
      expect(gw.store.findParty(terminal().address)).toMatchObject({
        role: "terminal",
        publicKey: terminalKeys.encryptionPublicKeyPem,
      });
      expect(gw.store.findParty(self.address)?.role).toBe("forwarder");
      expect(gw.store.findOrganization(self.address)?.vat).toBe(SELF_VAT);

      const events = gw.store.indexer.allEvents();
      const created = events.find((e) => e.name === "ReleaseCreated" && e.subject === mine.id.toLowerCase())!;
      expect(created.contract).toBe("releaseRegistry");
      expect(JSON.parse(created.args)).toEqual({ id: mine.id, creator: carrier().address });
      expect(batches.flatMap((b) => b.events)).toHaveLength(events.length);
      expect(batches.some((b) => b.releases.includes(mine.id.toLowerCase()))).toBe(true);

      // The polling loop: a new release shows up after a kick.
      await gw.indexer.start();
      const later = await createRelease("BL-MINE-2");
      gw.indexer.kick();
      await until("the new release in the cache", () => gw.store.findRelease(later.id) !== undefined);
      expect(gw.store.findRelease(later.id)!.data.billOfLading.blNumber).toBe("BL-MINE-2");
      expect(gw.indexer.status().running).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it("resumes after a restart (and after a crash inside the commit): every event exactly once", async () => {
    const first = openGateway();
    const file = first.file;
    await createRelease("BL-RESUME-1");
    await first.indexer.catchUp();
    const before = first.store.indexer.allEvents().length;
    await first.close();

    // More events while the gateway is down.
    const a = await createRelease("BL-RESUME-2");
    await updateRelease(a.id, "BL-RESUME-2b");
    await scr.send(carrier(), "releaseRegistry", "blockRelease", a.id);

    // A crash in the middle of a commit: the transaction is rolled back with the cursor.
    const crashing = openGateway(file);
    const inner = crashing.projection;
    const exploding: Projection<ScrPrepared> = {
      prepare: (logs, range) => inner.prepare(logs, range),
      commit: (p) => {
        inner.commit(p);
        throw new Error("simulated crash during commit");
      },
      rewind: (n) => inner.rewind(n),
    };
    const crashIndexer = new Indexer<ScrPrepared>({
      chain: crashing.evm,
      state: crashing.store.indexer,
      projection: exploding,
      log: quiet,
      contracts: { ...addresses },
    });
    await expect(crashIndexer.catchUp()).rejects.toThrow(/simulated crash/);
    expect(crashing.store.indexer.allEvents()).toHaveLength(before);
    expect(crashing.store.findRelease(a.id)).toBeUndefined();
    await crashing.close();

    const second = openGateway(file);
    try {
      const status = await second.indexer.catchUp();
      expect(status.indexedThrough).toBe(await chain.provider.getBlockNumber());
      const events = second.store.indexer.allEvents();
      expect(events.length).toBeGreaterThan(before);
      expect(second.store.indexer.eventCounts()).toEqual(await expectedCounts());
      const keys = events.map((e) => `${e.blockNumber}:${e.logIndex}`);
      expect(new Set(keys).size).toBe(keys.length);
      const r = second.store.findRelease(a.id)!;
      expect(r.data.billOfLading.blNumber).toBe("BL-RESUME-2b");
      expect(r.blocked).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("with confirmations = 2 the last two blocks wait until two more are mined", async () => {
    const gw = openGateway(tmpFile(), { confirmations: 2 });
    try {
      const x = await createRelease("BL-CONF-1", { transfer: false }); // block H-1
      const y = await scr.send(carrier(), "releaseRegistry", "blockRelease", x.id); // block H
      const head = await chain.provider.getBlockNumber();
      expect(y.blockNumber).toBe(head);
      const status = await gw.indexer.catchUp();
      expect(status).toMatchObject({ head, safeHead: head - 2, indexedThrough: head - 2, lag: 0 });
      const subjects = () => gw.store.indexer.allEvents().filter((e) => e.subject === x.id.toLowerCase());
      expect(subjects()).toEqual([]);

      await chain.provider.send("evm_mine", []);
      await chain.provider.send("evm_mine", []);
      const after = await gw.indexer.catchUp();
      expect(after.indexedThrough).toBe(head);
      expect(subjects().map((e) => e.name)).toEqual(["ReleaseCreated", "ReleaseBlocked"]);
    } finally {
      await gw.close();
    }
  });

  it("a revoke that cuts this organisation out keeps the record with the chain's owners, hidden from it", async () => {
    const r = await createRelease("BL-REVOKE");
    const gw = openGateway();
    try {
      await gw.indexer.catchUp();
      expect(gw.store.listReleases({ visibleTo: self.address, limit: 0, page: 1 }).map((x) => x.address)).toContain(r.id.toLowerCase());
      await scr.send(carrier(), "releaseRegistry", "revoke", r.id);
      await gw.indexer.catchUp();
      const cached = gw.store.findRelease(r.id)!;
      expect(cached.owners).toEqual([carrier().address.toLowerCase()]);
      expect(cached.data.billOfLading.blNumber).toBe("BL-REVOKE");
      expect(gw.store.listReleases({ visibleTo: self.address, limit: 0, page: 1 }).map((x) => x.address)).not.toContain(r.id.toLowerCase());
    } finally {
      await gw.close();
    }
  });

  it("catches up in adaptive ranges, halving when the node refuses a range, and reports progress", async () => {
    await chain.provider.send("anvil_mine", ["0x3c"]); // 60 empty blocks
    await createRelease("BL-RANGE-1");
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const real = new EvmChain({ rpcUrl: chain.rpcUrl, decodeRevert: () => null });
    const calls: [number, number][] = [];
    // A node that refuses more than 5 blocks per eth_getLogs, as public nodes do.
    const picky: Chain = Object.assign(Object.create(real) as EvmChain, {
      logs: async (f: { addresses: string[]; fromBlock: number; toBlock: number }) => {
        calls.push([f.fromBlock, f.toBlock]);
        if (f.toBlock - f.fromBlock + 1 > 5) throw new Error("query returned more than 10000 results");
        return real.logs(f);
      },
    });
    const gw = openGateway(tmpFile(), { evm: picky, initialRange: 3, maxRange: 8, progressIntervalMs: 0, log });
    try {
      const status = await gw.indexer.catchUp();
      const head = await chain.provider.getBlockNumber();
      expect(head).toBeGreaterThan(60);
      expect(status).toMatchObject({ head, indexedThrough: head, lag: 0, catchingUp: false });
      expect(status.progress).toMatchObject({ to: head, head, percent: 100 });
      expect(gw.store.indexer.eventCounts()).toEqual(await expectedCounts());

      // Ranges were contiguous, grew from 3, and were halved after refusals.
      const accepted = calls.filter(([f, t]) => t - f + 1 <= 5);
      expect(accepted[0]).toEqual([0, 2]);
      for (let i = 1; i < accepted.length; i++) expect(accepted[i]![0]).toBe(accepted[i - 1]![1] + 1);
      expect(calls.some(([f, t]) => t - f + 1 > 5)).toBe(true);
      expect(lines.some((l) => l.msg === "the node refused the block range; halving it")).toBe(true);

      const progress = lines.filter((l) => l.msg === "indexer progress");
      expect(progress.length).toBeGreaterThan(5);
      for (const p of progress) expect(p).toMatchObject({ from: expect.any(Number), to: expect.any(Number), head: expect.any(Number), percent: expect.any(Number) });
      const percents = progress.map((p) => p.percent as number);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(lines.some((l) => l.msg === "indexer caught up")).toBe(true);
    } finally {
      await gw.close();
      real.destroy();
    }
  });

  it("follows a reorg: orphaned changes and events disappear, the new chain is indexed", async () => {
    const r = await createRelease("BL-REORG-0");
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const gw = openGateway(tmpFile(), { log });
    try {
      await gw.indexer.catchUp();
      expect(gw.store.findRelease(r.id)!.data.billOfLading.blNumber).toBe("BL-REORG-0");

      const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
      const orphan = await updateRelease(r.id, "BL-REORG-ORPHAN");
      const orphanRelease = await createRelease("BL-REORG-ORPHAN-NEW");
      await gw.indexer.catchUp();
      expect(gw.store.findRelease(r.id)!.data.billOfLading.blNumber).toBe("BL-REORG-ORPHAN");
      expect(gw.store.findRelease(orphanRelease.id)).toBeDefined();
      const orphanHashes = new Set(
        gw.store.indexer
          .allEvents()
          .filter((e) => e.blockNumber >= orphan.receipt.blockNumber)
          .map((e) => e.blockHash),
      );
      expect(orphanHashes.size).toBeGreaterThan(0);

      expect(await chain.provider.send("evm_revert", [snapshot])).toBe(true);
      const replacement = await updateRelease(r.id, "BL-REORG-NEW");
      await chain.provider.send("anvil_mine", ["0x3"]); // the new chain is longer than the orphaned one
      expect(replacement.receipt.blockNumber).toBe(orphan.receipt.blockNumber);
      expect(replacement.receipt.blockHash).not.toBe(orphan.receipt.blockHash);

      const status = await gw.indexer.catchUp();
      expect(status.reorgs).toBe(1);
      const warning = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("chain reorganisation"));
      expect(warning).toMatchObject({ level: 40, depth: 3, ancestor: orphan.receipt.blockNumber - 1 });
      expect(status.indexedThrough).toBe(await chain.provider.getBlockNumber());
      expect(gw.store.findRelease(r.id)!.data.billOfLading.blNumber).toBe("BL-REORG-NEW");
      expect(gw.store.findRelease(orphanRelease.id)).toBeUndefined();

      const events = gw.store.indexer.allEvents();
      expect(events.filter((e) => orphanHashes.has(e.blockHash))).toEqual([]);
      for (const e of events.filter((x) => x.blockNumber >= orphan.receipt.blockNumber)) {
        expect(e.blockHash).toBe((await chain.provider.getBlock(e.blockNumber))!.hash);
      }
      expect(events.filter((e) => e.subject === r.id.toLowerCase()).map((e) => e.name)).toEqual([
        "ReleaseCreated",
        "ReleaseTransferred",
        "ReleaseUpdated",
      ]);
      expect(gw.store.indexer.eventCounts()).toEqual(await expectedCounts());
    } finally {
      await gw.close();
    }
  });
});
