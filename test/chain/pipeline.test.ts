import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, Wallet as EthersWallet, getAddress, hexlify, randomBytes } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvmChain } from "../../src/adapters/chain/evm/evm-chain.js";
import { Role, decodeRevertData, deployAll, interfaces, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { WritePipeline, type PipelineOptions } from "../../src/domain/operations/pipeline.js";
import { AlreadyExistsError } from "../../src/domain/errors.js";
import type { Wallet } from "../../src/ports/wallet.js";
import { mined, startTestAnvil, type TestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
let addresses: ContractAddresses;
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const decode = (data: string) => decodeRevertData(data)?.message ?? null;

/** A fresh carrier wallet with ETH, registered on chain, and a pipeline over a fresh store. */
async function carrierPipeline(opts: Partial<PipelineOptions> = {}) {
  const wallet = createEphemeralWallet();
  await chain.provider.send("anvil_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  const admin = chain.wallet(0);
  const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, admin);
  const vat = `BE${Math.floor(Math.random() * 1e10)}`;
  await mined(chain.provider, registry.getFunction("register")(wallet.address, "Carrier", vat, Role.Carrier, wallet.encryptionPublicKeyPem));
  const store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "scr-pipe-")), "db.sqlite3"));
  const evm = new EvmChain({ rpcUrl: chain.rpcUrl, decodeRevert: decode });
  const pipeline = new WritePipeline(store.operations, evm, wallet, log, { pollIntervalMs: 50, ...opts });
  await pipeline.start();
  return { wallet, store, evm, pipeline };
}

const createCall = (id: string) =>
  interfaces.releaseRegistry.encodeFunctionData("create", [id, "0x" + "00".repeat(20), "0x01", "0x02", "0x03", "0x"]);

const newId = () => getAddress(hexlify(randomBytes(20)));

beforeAll(async () => {
  // Many concurrent writes: mixed mining sweeps up what automine misses (foundry#10122).
  chain = await startTestAnvil({ mixedMiningSeconds: 0.5 });
  addresses = await deployAll(chain.wallet(0));
});
afterAll(() => chain?.stop());

describe("durable write pipeline on a real anvil", () => {
  it("200 concurrent writes from one wallet all confirm, with gap-free nonces", async () => {
    const { wallet, store, pipeline, evm } = await carrierPipeline();
    const ids = Array.from({ length: 200 }, newId);
    const ops = await Promise.all(
      ids.map(async (id) => pipeline.submit({ kind: "create", release: id, to: addresses.releaseRegistry, data: createCall(id) })),
    );
    const settled = await Promise.all(ops.map((o) => pipeline.settled(o.operation.id, 120_000)));
    expect(settled.filter((o) => o.state !== "confirmed").map((o) => o.failureReason)).toEqual([]);
    const nonces = settled.map((o) => o.nonce!).sort((a, b) => a - b);
    expect(nonces).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(await evm.nonceOf(wallet.address, "latest")).toBe(200);
    const registry = new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, chain.provider);
    for (const id of [ids[0]!, ids[99]!, ids[199]!]) expect(await registry.getFunction("exists")(id)).toBe(true);
    expect(store.operations.countInState("submitted") + store.operations.countInState("pending")).toBe(0);
    await pipeline.stop();
  });

  it("a write the contract refuses fails with the readable reason and consumes no nonce", async () => {
    const { wallet, pipeline, evm } = await carrierPipeline();
    const id = newId();
    const first = pipeline.submit({ kind: "create", to: addresses.releaseRegistry, data: createCall(id) });
    expect((await pipeline.settled(first.operation.id)).state).toBe("confirmed");
    const dup = pipeline.submit({ kind: "create", to: addresses.releaseRegistry, data: createCall(id) });
    const failed = await pipeline.settled(dup.operation.id);
    expect(failed.state).toBe("failed");
    expect(failed.failureReason).toMatch(/already exists/i);
    expect(failed.nonce).toBeNull();
    expect(await evm.nonceOf(wallet.address, "latest")).toBe(1);
    await pipeline.stop();
  });

  it("an idempotency key returns the same operation, and refuses a different request", async () => {
    const { pipeline, evm, wallet } = await carrierPipeline();
    const id = newId();
    const req = { kind: "create", to: addresses.releaseRegistry, data: createCall(id), idempotencyKey: "key-1" };
    const a = pipeline.submit(req);
    const b = pipeline.submit(req);
    expect(b.created).toBe(false);
    expect(b.operation.id).toBe(a.operation.id);
    expect(() => pipeline.submit({ ...req, data: createCall(newId()) })).toThrowError(AlreadyExistsError);
    expect((await pipeline.settled(a.operation.id)).state).toBe("confirmed");
    expect(await evm.nonceOf(wallet.address, "latest")).toBe(1);
    await pipeline.stop();
  });

  it("a stuck transaction is re-sent with the same nonce and at least 10% higher fees; one lands", async () => {
    const { pipeline, store, evm, wallet } = await carrierPipeline({ stuckAfterMs: 300 });
    // Hold every transaction back: no automine, no interval blocks.
    await chain.provider.send("evm_setAutomine", [false]);
    await chain.provider.send("evm_setIntervalMining", [0]);
    try {
      const op = pipeline.submit({ kind: "create", to: addresses.releaseRegistry, data: createCall(newId()) });
      const deadline = Date.now() + 15_000;
      while (store.operations.transactionsOf(op.operation.id).length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const [newer, older] = store.operations.transactionsOf(op.operation.id);
      expect(newer!.nonce).toBe(older!.nonce);
      expect(BigInt(newer!.maxFeePerGas!) * 100n).toBeGreaterThanOrEqual(BigInt(older!.maxFeePerGas!) * 110n);
      expect(BigInt(newer!.maxPriorityFeePerGas!) * 100n).toBeGreaterThanOrEqual(BigInt(older!.maxPriorityFeePerGas!) * 110n);
      await chain.provider.send("evm_mine", []);
      const done = await pipeline.settled(op.operation.id);
      expect(done.state).toBe("confirmed");
      expect(await evm.nonceOf(wallet.address, "latest")).toBe(1);
    } finally {
      await chain.provider.send("evm_setAutomine", [true]);
      await chain.provider.send("evm_setIntervalMining", [1]);
      await pipeline.stop();
    }
  });
});

export type { Wallet, EthersWallet };
