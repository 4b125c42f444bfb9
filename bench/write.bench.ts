/**
 * Write-pipeline throughput: operations confirmed per second through the gateway's durable
 * pipeline (recorded in SQLite, nonce persisted, signed bytes stored before broadcast,
 * receipts polled), against a plain ethers script sending the same contract calls to the same
 * anvil with a nonce counter in memory and nothing durable. Goal: ratio ≥ 0.8.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, getAddress, hexlify, randomBytes } from "ethers";
import pino from "pino";
import { DEFAULT_ANVIL_MNEMONIC, startAnvil } from "../src/adapters/chain/devnet/anvil.js";
import { Role, decodeRevertData, deployAll, interfaces, waitForReceipt } from "../src/adapters/chain/evm/contracts.js";
import { EvmChain } from "../src/adapters/chain/evm/evm-chain.js";
import { SqliteStore } from "../src/adapters/store/sqlite/store.js";
import { createEphemeralWallet } from "../src/adapters/wallet/keystore.js";
import { WritePipeline } from "../src/domain/operations/pipeline.js";
import { envInt, fmt, median, ratioOf, type BenchResult } from "./lib.js";

const ZERO = "0x" + "00".repeat(20);
const newId = () => getAddress(hexlify(randomBytes(20)));
const createData = (id: string) => interfaces.releaseRegistry.encodeFunctionData("create", [id, ZERO, "0x01", "0x02", "0x03", "0x"]);

async function waitAll(provider: JsonRpcProvider, hashes: string[]): Promise<void> {
  const pending = new Set(hashes);
  while (pending.size > 0) {
    for (const h of [...pending]) if (await provider.getTransactionReceipt(h)) pending.delete(h);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

export default async function writeBench(): Promise<BenchResult[]> {
  const ops = envInt("BENCH_WRITES", 300);
  const rounds = envInt("BENCH_ROUNDS", 4);
  // Mixed mining: pure automine can strand concurrent transactions (foundry-rs/foundry#10122).
  const anvil = await startAnvil({ mixedMiningSeconds: 0.5 });
  const dir = mkdtempSync(join(tmpdir(), "scr-bench-write-"));
  const provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  try {
    const account = (i: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEFAULT_ANVIL_MNEMONIC), `m/44'/60'/0'/0/${i}`).connect(provider);
    const admin = account(0);
    const addresses = await deployAll(admin);
    const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, admin);

    // The gateway side: an ephemeral wallet, funded and registered as a carrier.
    const wallet = createEphemeralWallet();
    await provider.send("anvil_setBalance", [wallet.address, "0x3635C9ADC5DEA00000"]);
    await waitForReceipt(provider, (await registry.getFunction("register")(wallet.address, "Bench Gateway", "BE1000000001", Role.Carrier, wallet.encryptionPublicKeyPem)).hash);
    const store = SqliteStore.open(join(dir, "db.sqlite3"));
    const chain = new EvmChain({ rpcUrl: anvil.rpcUrl, decodeRevert: (d) => decodeRevertData(d)?.message ?? null });
    const pipeline = new WritePipeline(store.operations, chain, wallet, pino({ level: "silent" }));
    await pipeline.start();

    // The baseline: a plain ethers script on another carrier account.
    const plain = account(1);
    await waitForReceipt(provider, (await registry.getFunction("register")(plain.address, "Bench Script", "BE1000000002", Role.Carrier, wallet.encryptionPublicKeyPem)).hash);
    const releases = new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, plain);
    let nonce = await provider.getTransactionCount(plain.address, "pending");

    const viaPipeline = async () => {
      const start = performance.now();
      const submitted = Array.from({ length: ops }, () => {
        const id = newId();
        return pipeline.submit({ kind: "create", release: id, to: addresses.releaseRegistry, data: createData(id) });
      });
      const settled = await Promise.all(submitted.map((s) => pipeline.settled(s.operation.id, 300_000)));
      const failed = settled.filter((o) => o.state !== "confirmed");
      if (failed.length > 0) throw new Error(`${failed.length} pipeline writes did not confirm: ${failed[0]!.failureReason}`);
      return ops / ((performance.now() - start) / 1000);
    };
    const viaScript = async () => {
      const start = performance.now();
      const sent = await Promise.all(
        Array.from({ length: ops }, () => releases.getFunction("create")(newId(), ZERO, "0x01", "0x02", "0x03", "0x", { nonce: nonce++ })),
      );
      await waitAll(provider, sent.map((t) => t.hash));
      return ops / ((performance.now() - start) / 1000);
    };

    await viaPipeline(); // warm-up both paths
    await viaScript();
    const pipelineRates: number[] = [];
    const scriptRates: number[] = [];
    // anvil slows down as its chain grows (a block per transaction), so the side that goes
    // first alternates: A B, B A, A B, …
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        pipelineRates.push(await viaPipeline());
        scriptRates.push(await viaScript());
      } else {
        scriptRates.push(await viaScript());
        pipelineRates.push(await viaPipeline());
      }
      console.log(`  round ${r + 1}/${rounds}: pipeline ${fmt(pipelineRates[r]!)} ops/s, plain ethers ${fmt(scriptRates[r]!)} ops/s`);
    }
    await pipeline.stop();
    chain.destroy();
    store.close();
    const value = median(pipelineRates);
    const baseline = median(scriptRates);
    return [
      {
        name: `write: ${ops} concurrent writes confirmed`,
        unit: "ops/s",
        value,
        baseline,
        ratio: ratioOf(value, baseline, true),
        goal: 0.8,
        higherIsBetter: true,
        notes:
          `pipeline rounds ${pipelineRates.map(fmt).join("/")} ops/s, plain ethers with an in-memory nonce ` +
          `${scriptRates.map(fmt).join("/")} ops/s; same anvil (automine with a 0.5 s sweep block), same contract call, first side alternating; loadavg ${loadavg()[0]!.toFixed(2)}`,
      },
    ];
  } finally {
    provider.destroy();
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
