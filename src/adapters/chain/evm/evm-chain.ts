import { JsonRpcProvider, isCallException, toBeHex, type Network } from "ethers";
import {
  RevertError,
  type BlockHeader,
  type BroadcastResult,
  type CallRequest,
  type Chain,
  type FeeQuote,
  type Log,
  type Receipt,
} from "../../../ports/chain.js";

export interface EvmChainOptions {
  rpcUrl: string;
  /** Fixed legacy gas price in wei, e.g. 0 on a free-gas Besu or Quorum network. */
  gasPrice?: bigint;
  /** Turns revert data (custom errors) into readable English; null when unknown. */
  decodeRevert: (data: string) => string | null;
  network?: Network;
}

type RpcReceipt = { transactionHash: string; blockNumber: string; blockHash: string; status: string; gasUsed: string };
type RpcBlock = { number: string; hash: string; parentHash: string; timestamp: string };
type RpcLog = Omit<Log, "blockNumber" | "logIndex"> & { blockNumber: string; logIndex: string; removed?: boolean };

const num = (hex: string) => Number(BigInt(hex));

/**
 * The Chain port on an EVM JSON-RPC node, through ethers v6 configured for reliability: no
 * request batching, no response caching (the default cache hands out stale nonces), a
 * network fixed after the first detection. Receipts are polled by the pipeline, never
 * awaited with `tx.wait()`.
 */
export class EvmChain implements Chain {
  readonly provider: JsonRpcProvider;

  constructor(private readonly opts: EvmChainOptions) {
    this.provider = new JsonRpcProvider(opts.rpcUrl, opts.network, {
      staticNetwork: opts.network ?? true,
      batchMaxCount: 1,
      cacheTimeout: -1,
      polling: true,
      pollingInterval: 250,
    });
  }

  private rpc<T>(method: string, params: unknown[]): Promise<T> {
    return this.provider.send(method, params) as Promise<T>;
  }

  async chainId() {
    return BigInt(await this.rpc<string>("eth_chainId", []));
  }

  async blockNumber() {
    return num(await this.rpc<string>("eth_blockNumber", []));
  }

  async getBlock(n: number): Promise<BlockHeader | null> {
    const b = await this.rpc<RpcBlock | null>("eth_getBlockByNumber", [toBeHex(n), false]);
    return b && { number: num(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: num(b.timestamp) };
  }

  async nonceOf(address: string, tag: "latest" | "pending") {
    return num(await this.rpc<string>("eth_getTransactionCount", [address, tag]));
  }

  async estimateGas(call: CallRequest) {
    try {
      return BigInt(await this.rpc<string>("eth_estimateGas", [call]));
    } catch (err) {
      throw this.revertOrRethrow(err);
    }
  }

  async fees(): Promise<FeeQuote> {
    if (this.opts.gasPrice !== undefined) return { gasPrice: this.opts.gasPrice };
    const block = await this.rpc<{ baseFeePerGas?: string } | null>("eth_getBlockByNumber", ["latest", false]);
    if (block?.baseFeePerGas === undefined) {
      return { gasPrice: BigInt(await this.rpc<string>("eth_gasPrice", [])) };
    }
    const base = BigInt(block.baseFeePerGas);
    let tip: bigint;
    try {
      tip = BigInt(await this.rpc<string>("eth_maxPriorityFeePerGas", []));
    } catch {
      tip = 1_000_000_000n;
    }
    // Room for the base fee to double over the next blocks, as wallets commonly allow.
    return { maxFeePerGas: base * 2n + tip, maxPriorityFeePerGas: tip };
  }

  async broadcast(raw: string): Promise<BroadcastResult> {
    try {
      await this.rpc("eth_sendRawTransaction", [raw]);
      return "sent";
    } catch (err) {
      const message = errorText(err);
      if (/already known|known transaction|already imported|already exists/i.test(message)) return "already_known";
      if (/nonce too low|nonce.*already been used|old nonce/i.test(message)) return "nonce_too_low";
      if (/underpriced|fee too low/i.test(message)) return "underpriced";
      throw err;
    }
  }

  async receipt(hash: string): Promise<Receipt | null> {
    const r = await this.rpc<RpcReceipt | null>("eth_getTransactionReceipt", [hash]);
    if (!r || r.blockNumber === null) return null;
    return {
      hash: r.transactionHash,
      blockNumber: num(r.blockNumber),
      blockHash: r.blockHash,
      status: num(r.status),
      gasUsed: BigInt(r.gasUsed),
    };
  }

  async revertReason(call: CallRequest, blockNumber: number): Promise<string | null> {
    try {
      await this.rpc("eth_call", [call, toBeHex(Math.max(0, blockNumber))]);
      return null;
    } catch (err) {
      const revert = this.revertOrRethrow(err);
      return revert instanceof RevertError ? revert.reason : null;
    }
  }

  async logs(filter: { addresses: string[]; fromBlock: number; toBlock: number }): Promise<Log[]> {
    const logs = await this.rpc<RpcLog[]>("eth_getLogs", [
      { address: filter.addresses, fromBlock: toBeHex(filter.fromBlock), toBlock: toBeHex(filter.toBlock) },
    ]);
    return logs
      .filter((l) => !l.removed)
      .map((l) => ({ ...l, blockNumber: num(l.blockNumber), logIndex: num(l.logIndex) }));
  }

  async hasCode(address: string) {
    return (await this.rpc<string>("eth_getCode", [address, "latest"])) !== "0x";
  }

  destroy(): void {
    this.provider.destroy();
  }

  private revertOrRethrow(err: unknown): unknown {
    const data = revertData(err);
    if (data !== undefined) {
      const reason = this.opts.decodeRevert(data) ?? (data === "0x" ? "the call reverted without a reason" : `the call reverted (${data.slice(0, 10)})`);
      return new RevertError(reason);
    }
    if (isCallException(err) || /execution reverted|revert/i.test(errorText(err))) {
      return new RevertError(/reverted: (.+)$/.exec(errorText(err))?.[1] ?? "the call reverted");
    }
    return err;
  }
}

/** Revert bytes, wherever the node and ethers put them. */
function revertData(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (!e || typeof e !== "object" || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-f]*$/i.test(o.data) && (o.data.length >= 10 || o.data === "0x")) return o.data;
    return visit(o.error) ?? visit(o.info) ?? visit(o.data) ?? visit(o.cause);
  };
  return visit(err);
}

function errorText(err: unknown): string {
  if (!err || typeof err !== "object") return String(err);
  const o = err as { message?: string; error?: { message?: string }; info?: { error?: { message?: string } } };
  return [o.message, o.error?.message, o.info?.error?.message].filter(Boolean).join(" | ");
}
