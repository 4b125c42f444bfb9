import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Role, deployAll, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { EvmChain } from "../../src/adapters/chain/evm/evm-chain.js";
import { ScrProjection, type ScrPrepared } from "../../src/adapters/chain/evm/projection.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { ChainResetError, Indexer } from "../../src/domain/indexer/indexer.js";
import type { Wallet } from "../../src/ports/wallet.js";
import { scrClient, startTestAnvil, type TestAnvil } from "../support/anvil.js";

const quiet = pino({ level: "silent" });
const started: TestAnvil[] = [];
const self: Wallet = createEphemeralWallet();

async function anvil(opts: { genesisTimestamp: number; chainId?: number }): Promise<TestAnvil> {
  const a = await startTestAnvil({ chainId: opts.chainId, extraArgs: ["--timestamp", String(opts.genesisTimestamp)] });
  started.push(a);
  return a;
}

/** A gateway's indexer over the SQLite file, pointed at `chain`. */
function gateway(file: string, chain: TestAnvil, addresses: ContractAddresses) {
  const store = SqliteStore.open(file);
  const evm = new EvmChain({ rpcUrl: chain.rpcUrl, decodeRevert: () => null });
  const projection = new ScrProjection({ provider: evm.provider, addresses, store, repository: store.indexer, wallet: self, log: quiet });
  const indexer = new Indexer<ScrPrepared>({
    chain: evm,
    state: store.indexer,
    projection,
    log: quiet,
    contracts: { ...addresses },
    rpcUrl: chain.rpcUrl,
  });
  return {
    store,
    indexer,
    async close() {
      await indexer.stop();
      evm.destroy();
      store.close();
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<ChainResetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChainResetError);
  return err as ChainResetError;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
});

describe("a reset chain is recognised at start", () => {
  it("a data directory indexed from one anvil refuses a fresh anvil with a clear ChainResetError", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "scr-reset-")), "db.sqlite3");
    const first = await anvil({ genesisTimestamp: 1_700_000_000 });
    const addresses = await deployAll(first.wallet(0));
    await scrClient(first, addresses).send(first.wallet(0), "organizationRegistry", "register", first.wallet(1).address, "Carrier", "BE01", Role.Carrier, "pem");
    const gw = gateway(file, first, addresses);
    const status = await gw.indexer.catchUp();
    expect(status.indexedThrough).toBe(await first.provider.getBlockNumber());
    expect(gw.store.indexer.allEvents().length).toBeGreaterThan(0);
    await gw.close();
    await first.stop();

    // A new anvil process: same mnemonic, same chain id, nothing deployed yet.
    const second = await anvil({ genesisTimestamp: 1_700_000_500 });
    let again = gateway(file, second, addresses);
    let err = await rejection(again.indexer.start());
    expect(err.reason).toBe("genesis");
    expect(err.message).toContain(`the chain at ${second.rpcUrl} has a different genesis block`);
    expect(err.message).toContain("than the one this data directory was indexed from");
    expect(err.message).toMatch(/it was reset\. Start with a fresh data directory, or redeploy with `scr chain deploy`/);
    expect(again.indexer.status().running).toBe(false);
    await again.close();

    // Redeployed by the same account: the same addresses hold code again; the genesis still differs.
    expect(await deployAll(second.wallet(0))).toEqual(addresses);
    again = gateway(file, second, addresses);
    err = await rejection(again.indexer.catchUp());
    expect(err.reason).toBe("genesis");
    await again.close();

    // A fresh data directory on a chain without the contracts.
    const third = await anvil({ genesisTimestamp: 1_700_001_000 });
    const fresh = gateway(join(mkdtempSync(join(tmpdir(), "scr-reset-")), "db.sqlite3"), third, addresses);
    err = await rejection(fresh.indexer.init());
    expect(err.reason).toBe("no-code");
    expect(err.message).toContain(`the chain at ${third.rpcUrl} has no contract code at ${addresses.organizationRegistry} (organizationRegistry)`);
    expect(err.message).toContain("scr chain deploy");
    await fresh.close();
  });

  it("a different chain id is named as such", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "scr-reset-")), "db.sqlite3");
    const first = await anvil({ genesisTimestamp: 1_700_000_000 });
    const addresses = await deployAll(first.wallet(0));
    const gw = gateway(file, first, addresses);
    await gw.indexer.catchUp();
    await gw.close();

    const other = await anvil({ genesisTimestamp: 1_700_000_000, chainId: 4242 });
    await deployAll(other.wallet(0));
    const again = gateway(file, other, addresses);
    const err = await rejection(again.indexer.init());
    expect(err.reason).toBe("chain-id");
    expect(err.message).toContain(`the chain at ${other.rpcUrl} has chain id 4242, but this data directory was indexed from chain id 31337`);
    await again.close();
  });
});
