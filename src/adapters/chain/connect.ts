import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HDNodeWallet, Mnemonic, type JsonRpcProvider } from "ethers";
import type { Logger } from "pino";
import type { LoadedConfig } from "../../config/load.js";
import { resolveFrom } from "../../config/load.js";
import { writeFileAtomic } from "../wallet/keystore.js";
import { DEFAULT_ANVIL_MNEMONIC, startAnvil, type AnvilHandle } from "./devnet/anvil.js";
import { decodeRevertData, deployAll, type ContractAddresses, type DeployOptions } from "./evm/contracts.js";
import { EvmChain } from "./evm/evm-chain.js";

/** What `npm start` deployed to its local chain, kept in the data directory. */
export interface Deployment {
  chainId: string;
  genesisHash: string;
  addresses: ContractAddresses;
  deployedAt: string;
}

export interface ConnectedChain {
  chain: EvmChain;
  rpcUrl: string;
  addresses: ContractAddresses;
  /** The local anvil, when the configuration names no node. */
  anvil?: AnvilHandle;
  /** True for the embedded local chain: sandbox conveniences (funding, seeding) apply. */
  local: boolean;
  close(): Promise<void>;
}

export class ChainSetupError extends Error {
  override readonly name = "ChainSetupError";
}

/** The registry administrator of the local chain: anvil's first well-known account. */
export function localAdmin(provider: JsonRpcProvider): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEFAULT_ANVIL_MNEMONIC), "m/44'/60'/0'/0/0").connect(provider);
}

export function chainDir(config: LoadedConfig): string {
  return join(resolveFrom(config.baseDir, config.dataDir), "chain");
}

export function decodeRevertMessage(data: string): string | null {
  return decodeRevertData(data)?.message ?? null;
}

/**
 * Connects to the configured EVM node, or starts the embedded anvil with its state in the
 * data directory and deploys the contracts there once. Contract addresses come from the
 * configuration (external node) or from the recorded deployment (local chain).
 */
export async function connectChain(
  config: LoadedConfig,
  log: Logger,
  opts: { onDeployProgress?: DeployOptions["onProgress"] } = {},
): Promise<ConnectedChain> {
  const cfg = config.chain;
  const gasPrice = cfg.gasPrice === undefined ? undefined : BigInt(cfg.gasPrice);
  if (cfg.rpcUrl) {
    if (!cfg.contracts) {
      throw new ChainSetupError(
        `chain.rpcUrl is set but chain.contracts is not: deploy with \`scr chain deploy --config <file>\` and put the printed addresses in chain.contracts`,
      );
    }
    const chain = new EvmChain({ rpcUrl: cfg.rpcUrl, gasPrice, decodeRevert: decodeRevertMessage });
    return { chain, rpcUrl: cfg.rpcUrl, addresses: cfg.contracts, local: false, close: async () => chain.destroy() };
  }

  const dir = chainDir(config);
  mkdirSync(dir, { recursive: true });
  const anvil = await startAnvil({
    stateFile: join(dir, "anvil-state.json"),
    stateIntervalSeconds: cfg.anvil.stateIntervalSeconds,
    blockTime: cfg.anvil.blockTime,
    mixedMiningSeconds: 2,
  });
  const chain = new EvmChain({ rpcUrl: anvil.rpcUrl, gasPrice, decodeRevert: decodeRevertMessage });
  const close = async () => {
    chain.destroy();
    await anvil.stop();
  };
  try {
    const addresses = await localDeployment(chain, dir, log, opts.onDeployProgress);
    log.info({ rpcUrl: anvil.rpcUrl, pid: anvil.pid, state: join(dir, "anvil-state.json") }, "local chain (anvil) started");
    return { chain, rpcUrl: anvil.rpcUrl, addresses, anvil, local: true, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function localDeployment(chain: EvmChain, dir: string, log: Logger, onProgress?: DeployOptions["onProgress"]): Promise<ContractAddresses> {
  const file = join(dir, "deployment.json");
  const genesis = await chain.getBlock(0);
  const chainId = (await chain.chainId()).toString();
  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    const intact =
      recorded.genesisHash === genesis?.hash &&
      recorded.chainId === chainId &&
      (await chain.hasCode(recorded.addresses.releaseRegistry));
    if (intact) return recorded.addresses;
    throw new ChainSetupError(
      `the local chain in ${dir} no longer holds the contracts recorded in deployment.json (its state file was lost or reset). ` +
        `Move the data directory aside to start a fresh sandbox.`,
    );
  }
  const admin = localAdmin(chain.provider);
  const addresses = await deployAll(admin, { onProgress });
  const deployment: Deployment = { chainId, genesisHash: genesis!.hash, addresses, deployedAt: new Date().toISOString() };
  writeFileAtomic(file, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o644, overwrite: false });
  log.info({ addresses }, "contracts deployed to the local chain");
  return addresses;
}
