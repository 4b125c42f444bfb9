/**
 * One anvil per test file:
 *
 *   let chain: TestAnvil;
 *   beforeAll(async () => { chain = await startTestAnvil(); });
 *   afterAll(async () => { await chain?.stop(); });
 */
import {
  type ContractTransactionResponse,
  HDNodeWallet,
  JsonRpcProvider,
  Mnemonic,
  type Provider,
  type TransactionReceipt,
  type TransactionResponse,
  type Wallet,
} from "ethers";
import {
  type AnvilHandle,
  type AnvilOptions,
  DEFAULT_ANVIL_CHAIN_ID,
  DEFAULT_ANVIL_MNEMONIC,
  startAnvil,
} from "../../src/adapters/chain/devnet/anvil.js";
import {
  abis,
  type ContractAddresses,
  connectContracts,
  type DecodedRevert,
  decodeRevert,
  interfaces,
  type ScrContracts,
  waitForReceipt,
} from "../../src/adapters/chain/evm/contracts.js";

export interface TestAnvil {
  anvil: AnvilHandle;
  rpcUrl: string;
  chainId: number;
  /** JsonRpcProvider with staticNetwork, batchMaxCount 1, cacheTimeout -1 and 50 ms polling. */
  provider: JsonRpcProvider;
  /** The funded accounts of the mnemonic (m/44'/60'/0'/0/i), connected to `provider`. */
  wallets: (HDNodeWallet | Wallet)[];
  /** wallets[i], throwing when there is no such account. */
  wallet(i: number): HDNodeWallet | Wallet;
  stop(): Promise<void>;
}

/** A provider configured for anvil (the default caching returns stale nonces). */
export function anvilProvider(rpcUrl: string, chainId: number = DEFAULT_ANVIL_CHAIN_ID): JsonRpcProvider {
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  provider.pollingInterval = 50;
  return provider;
}

export async function startTestAnvil(
  options: AnvilOptions & { accounts?: number } = {},
): Promise<TestAnvil> {
  const accounts = options.accounts ?? 10;
  const anvil = await startAnvil({ ...options, accounts });
  const provider = anvilProvider(anvil.rpcUrl, anvil.chainId);
  const mnemonic = Mnemonic.fromPhrase(options.mnemonic ?? DEFAULT_ANVIL_MNEMONIC);
  const wallets: HDNodeWallet[] = [];
  for (let i = 0; i < accounts; i++) {
    wallets.push(HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).connect(provider));
  }
  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    provider,
    wallets,
    wallet(i: number) {
      const w = wallets[i];
      if (!w) throw new Error(`anvil has no account ${i} (started with ${accounts})`);
      return w;
    },
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
  };
}

/**
 * Awaits a sent transaction and polls its receipt (tx.wait() can miss the block on an
 * automining node); throws when it reverted.
 */
export async function mined(
  provider: Provider,
  sent: Promise<ContractTransactionResponse | TransactionResponse>,
): Promise<TransactionReceipt> {
  const tx = await sent;
  return waitForReceipt(provider, tx.hash, { timeoutMs: 20_000, pollMs: 20 });
}

/**
 * Expects `pending` to be refused with revert data from one of our contracts and returns the
 * decoded error; rethrows anything else.
 */
export async function revertOf(pending: Promise<unknown>): Promise<DecodedRevert> {
  let result: unknown;
  try {
    result = await pending;
  } catch (err) {
    const decoded = decodeRevert(err);
    if (!decoded) throw err;
    return decoded;
  }
  throw new Error(`expected a revert, got ${String(result)}`);
}

type ContractKey = keyof typeof abis;
/** Function names of a contract, from its ABI. */
export type FunctionName<K extends ContractKey> = Extract<(typeof abis)[K][number], { type: "function" }>["name"];

export interface ParsedEvent {
  name: string;
  args: Record<string, unknown>;
}

/**
 * Small test client over the deployed contracts:
 *   await scr.send(wallet, "releaseRegistry", "create", id, terminal, ...)
 *   const err = await scr.reverts(wallet, "releaseRegistry", "transfer", id, to, "0x", "0x")
 *   const release = await scr.read("releaseRegistry", "getRelease", id)
 */
export function scrClient(chain: TestAnvil, addresses: ContractAddresses) {
  const cache = new Map<string, ScrContracts>();
  const of = (runner: HDNodeWallet | Wallet | undefined): ScrContracts => {
    const key = runner?.address ?? "";
    let c = cache.get(key);
    if (!c) {
      c = connectContracts(addresses, runner ?? chain.provider);
      cache.set(key, c);
    }
    return c;
  };
  return {
    addresses,
    contracts: of,
    send<K extends ContractKey>(
      from: HDNodeWallet | Wallet,
      contract: K,
      fn: FunctionName<K>,
      ...args: unknown[]
    ): Promise<TransactionReceipt> {
      return mined(chain.provider, of(from)[contract].getFunction(fn)(...args));
    },
    reverts<K extends ContractKey>(
      from: HDNodeWallet | Wallet,
      contract: K,
      fn: FunctionName<K>,
      ...args: unknown[]
    ): Promise<DecodedRevert> {
      return revertOf(of(from)[contract].getFunction(fn)(...args));
    },
    read<K extends ContractKey>(contract: K, fn: FunctionName<K>, ...args: unknown[]): Promise<any> {
      return of(undefined)[contract].getFunction(fn).staticCall(...args);
    },
    /** Events of `contract` in a receipt, decoded. */
    events(receipt: TransactionReceipt, contract: ContractKey): ParsedEvent[] {
      const iface = interfaces[contract];
      const address = addresses[contract].toLowerCase();
      const out: ParsedEvent[] = [];
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== address) continue;
        const parsed = iface.parseLog(log);
        if (!parsed) continue;
        const args: Record<string, unknown> = {};
        parsed.fragment.inputs.forEach((input, i) => {
          args[input.name] = parsed.args[i];
        });
        out.push({ name: parsed.name, args });
      }
      return out;
    },
  };
}

export type ScrClient = ReturnType<typeof scrClient>;
