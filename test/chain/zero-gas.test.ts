import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, getAddress, hexlify, randomBytes, Transaction } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EvmChain } from "../../src/adapters/chain/evm/evm-chain.js";
import { Role, decodeRevertData, deployAll, interfaces, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { WritePipeline } from "../../src/domain/operations/pipeline.js";
import { mined, startTestAnvil, type TestAnvil } from "../support/anvil.js";

// A permissioned network without gas fees, as Besu and Quorum run them: base fee 0, price 0.
let chain: TestAnvil;
let addresses: ContractAddresses;

beforeAll(async () => {
  chain = await startTestAnvil({ mixedMiningSeconds: 0.5, extraArgs: ["--base-fee", "0", "--gas-price", "0", "--disable-min-priority-fee"] });
  addresses = await deployAll(chain.wallet(0));
});
afterAll(() => chain?.stop());

it("writes confirm with gas price 0 from an account holding no ether", async () => {
  const wallet = createEphemeralWallet();
  const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, chain.wallet(0));
  await mined(chain.provider, registry.getFunction("register")(wallet.address, "Free Carrier", "BE0000000077", Role.Carrier, wallet.encryptionPublicKeyPem));
  expect(await chain.provider.getBalance(wallet.address)).toBe(0n);

  const store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "scr-zero-")), "db.sqlite3"));
  const evm = new EvmChain({ rpcUrl: chain.rpcUrl, gasPrice: 0n, decodeRevert: (d) => decodeRevertData(d)?.message ?? null });
  const pipeline = new WritePipeline(store.operations, evm, wallet, pino({ level: "silent" }), { pollIntervalMs: 50 });
  await pipeline.start();
  try {
    const id = getAddress(hexlify(randomBytes(20)));
    const data = interfaces.releaseRegistry.encodeFunctionData("create", [id, "0x" + "00".repeat(20), "0x01", "0x02", "0x03", "0x"]);
    const { operation } = pipeline.submit({ kind: "create", to: addresses.releaseRegistry, data });
    const done = await pipeline.settled(operation.id);
    expect(done.state).toBe("confirmed");
    const [tx] = store.operations.transactionsOf(operation.id);
    const parsed = Transaction.from(tx!.raw);
    expect(parsed.type).toBe(0);
    expect(parsed.gasPrice).toBe(0n);
  } finally {
    await pipeline.stop();
    evm.destroy();
    store.close();
  }
});
