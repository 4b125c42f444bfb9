import { readFileSync } from "node:fs";
import { Contract } from "ethers";
import type { Logger } from "pino";
import { buildApp, type App } from "./app.js";
import { resolveFrom, type LoadedConfig } from "./config/load.js";
import type { AppContext } from "./context.js";
import { Indexer } from "./domain/indexer/indexer.js";
import { WritePipeline } from "./domain/operations/pipeline.js";
import { ReleaseQueries } from "./domain/releases/queries.js";
import { pinRotationListener } from "./domain/releases/pin-rotation.js";
import { connectChain, localAdmin, type ConnectedChain } from "./adapters/chain/connect.js";
import { Role, interfaces, type DeployProgress } from "./adapters/chain/evm/contracts.js";
import { ScrProjection } from "./adapters/chain/evm/projection.js";
import { EvmReleaseLedger, EvmReleaseReader } from "./adapters/chain/evm/release-ledger.js";
import { WalletReleaseCrypto } from "./adapters/crypto/wallet-release-crypto.js";
import { readOrganization } from "./adapters/chain/evm/registry-reader.js";
import { RegistryIdentity } from "./adapters/identity/registry-identity.js";
import { SqliteStore } from "./adapters/store/sqlite/store.js";
import { openWallet } from "./adapters/wallet/open.js";
import { startSubscriptions } from "./adapters/webhooks/index.js";
import type { Wallet } from "./ports/wallet.js";
import { createLogger } from "./logging/logger.js";
import { startSandbox, type Sandbox } from "./sandbox/sandbox.js";
import { verifierFromConfig } from "./auth/verifier.js";

export interface Gateway {
  app: App;
  ctx: AppContext;
  url: string;
  chain: ConnectedChain;
  indexer: Indexer;
  /** The sandbox parties, on the embedded local chain. */
  sandbox?: Sandbox;
  stop(): Promise<void>;
}

export function dataPath(config: LoadedConfig, file: string): string {
  return resolveFrom(resolveFrom(config.baseDir, config.dataDir), file);
}

/** The sandbox's own organisation on the local chain, as the spec's UAT calls it. */
const SANDBOX_SELF = { name: "Test entity 1", vat: "BE0000000001", role: Role.Forwarder };

/**
 * Builds every part from the configuration and starts listening. Parts are stopped in
 * reverse order on failure and on stop().
 */
export interface StartOptions {
  /** The contracts' deployment on a fresh embedded local chain (a progress display). */
  onDeployProgress?: (progress: DeployProgress) => void;
}

export async function startGateway(config: LoadedConfig, logger?: Logger, options: StartOptions = {}): Promise<Gateway> {
  const log = logger ?? createLogger(config);
  if (config.protocol === "https" && !config.httpServer.ssl) {
    throw new Error('"protocol": "https" needs httpServer.ssl.serverCert and httpServer.ssl.serverKey');
  }
  const cleanup: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup.length = 0;
  };
  try {
    const store = SqliteStore.open(dataPath(config, config.sqliteDB));
    cleanup.push(() => store.close());
    // The key is checked before the chain is touched: a bad key stops the start early.
    const verifier = verifierFromConfig(config, store.usedTokens);
    const wallet = openWallet(config, log);
    const chain = await connectChain(config, log, { onDeployProgress: options.onDeployProgress });
    cleanup.push(() => chain.close());
    if (chain.local) await joinSandbox(chain, wallet, log);

    const self = await readOrganization(chain.chain, chain.addresses.organizationRegistry, wallet.address);
    if (self) store.upsertOrganization(self);
    else log.warn({ address: wallet.address }, "this organisation is not registered on the network yet");

    const pipeline = new WritePipeline(store.operations, chain.chain, wallet, log, {
      confirmations: Math.max(1, config.chain.confirmations),
      stuckAfterMs: config.chain.stuckAfterSeconds * 1000,
    });
    // The chain is checked (reset? same genesis? contracts there?) before anything is sent.
    const projection = new ScrProjection({
      provider: chain.chain.provider,
      addresses: chain.addresses,
      store,
      repository: store.indexer,
      connections: store.connections,
      wallet,
      log,
    });
    // The carrier's pincode renewal after a revoke commits with the indexed event.
    const renewal = { store, self: wallet, pipeline, ledger: new EvmReleaseLedger(chain.addresses.releaseRegistry), crypto: new WalletReleaseCrypto(wallet), log };
    projection.onCommitted(pinRotationListener(renewal), { inTransaction: true });
    // Notifications are written in the indexer's transaction: registered before it starts.
    const subscriptions = startSubscriptions({
      config,
      store: store.subscriptions,
      releases: store,
      orgs: store,
      connections: store.connections,
      source: projection,
      wallet,
      log,
    });
    cleanup.push(() => subscriptions.stop());
    const indexer = new Indexer({
      chain: chain.chain,
      state: store.indexer,
      projection,
      log,
      contracts: { ...chain.addresses },
      rpcUrl: chain.rpcUrl,
      confirmations: config.chain.confirmations,
    });
    await indexer.init();

    await pipeline.start();
    cleanup.push(() => pipeline.stop());
    pipeline.onSettled(() => indexer.kick());
    await indexer.start();
    cleanup.push(() => indexer.stop());

    const ctx: AppContext = {
      config,
      logger: log,
      store,
      identity: new RegistryIdentity(wallet.address, store),
      releases: new ReleaseQueries(store),
      chain: {
        wallet,
        pipeline,
        addresses: chain.addresses,
        ledger: new EvmReleaseLedger(chain.addresses.releaseRegistry),
        reader: new EvmReleaseReader(chain.chain.provider, chain.addresses.releaseRegistry),
        crypto: new WalletReleaseCrypto(wallet),
      },
      auth: verifier ? { verifier } : undefined,
      subscriptions: { feed: subscriptions.feed, kick: subscriptions.kick },
      health: { chainHead: () => chain.chain.blockNumber(), indexer: () => indexer.status(), rpcUrl: chain.rpcUrl, local: chain.local },
    };
    // The sandbox is seeded before this gateway answers, so its first GET /releases has data.
    let sandbox: Sandbox | undefined;
    if (chain.local && config.chain.anvil.sandbox) {
      sandbox = await startSandbox({ config, chain, entity1: ctx, kickEntity1: () => indexer.kick(), log, start: startGateway });
      cleanup.push(() => sandbox?.stop());
    }
    const ssl = config.httpServer.ssl;
    const app = await buildApp(ctx, {
      tls:
        config.protocol === "https" && ssl
          ? {
              cert: readFileSync(resolveFrom(config.baseDir, ssl.serverCert)),
              key: readFileSync(resolveFrom(config.baseDir, ssl.serverKey)),
            }
          : undefined,
    });
    cleanup.push(() => app.close());
    const address = await app.listener.listen();
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `${config.protocol}://${host}:${address.port}`;
    log.info({ url, baseURL: config.baseURL, wallet: wallet.address, chain: chain.rpcUrl }, "scr-gateway listening");
    sandbox?.listening(url);
    return { app, ctx, url, chain, indexer, sandbox, stop: unwind };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/**
 * On the embedded local chain, this gateway's organisation is funded and registered as
 * "Test entity 1", so the sandbox works from the first start.
 */
async function joinSandbox(chain: ConnectedChain, wallet: Wallet, log: Logger): Promise<void> {
  await chain.chain.provider.send("anvil_setBalance", [wallet.address, "0x3635C9ADC5DEA00000"]);
  if (await readOrganization(chain.chain, chain.addresses.organizationRegistry, wallet.address)) return;
  const admin = localAdmin(chain.chain.provider);
  const registry = new Contract(chain.addresses.organizationRegistry, interfaces.organizationRegistry, admin);
  const tx = await registry.getFunction("register")(
    wallet.address,
    SANDBOX_SELF.name,
    SANDBOX_SELF.vat,
    SANDBOX_SELF.role,
    wallet.encryptionPublicKeyPem,
  );
  for (let i = 0; i < 100 && !(await chain.chain.receipt(tx.hash)); i++) await new Promise((r) => setTimeout(r, 50));
  log.warn({ address: wallet.address, organization: SANDBOX_SELF.name, vat: SANDBOX_SELF.vat }, "SANDBOX: registered this gateway's organisation on the local chain");
}
