/** What the write pipeline and the indexer need from an EVM node. No library types. */

export interface FeeQuote {
  /** EIP-1559 networks. */
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** Legacy pricing; 0 on permissioned networks (Besu, Quorum) without gas fees. */
  gasPrice?: bigint;
}

export interface CallRequest {
  from: string;
  to: string;
  data: string;
}

export interface Receipt {
  hash: string;
  blockNumber: number;
  blockHash: string;
  /** 1 success, 0 reverted. */
  status: number;
  gasUsed: bigint;
}

export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}

export interface Log {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
}

/** How the node took a raw transaction. */
export type BroadcastResult = "sent" | "already_known" | "nonce_too_low" | "underpriced";

/** A call or estimate the contract refused; `reason` is readable English. */
export class RevertError extends Error {
  constructor(
    readonly reason: string,
    readonly errorName?: string,
  ) {
    super(reason);
  }
}

export interface Chain {
  chainId(): Promise<bigint>;
  blockNumber(): Promise<number>;
  getBlock(number: number): Promise<BlockHeader | null>;
  /** The next nonce the node expects, counting its mempool ("pending") or not. */
  nonceOf(address: string, tag: "latest" | "pending"): Promise<number>;
  /** Throws RevertError when the call would revert. */
  estimateGas(call: CallRequest): Promise<bigint>;
  fees(): Promise<FeeQuote>;
  broadcast(raw: string): Promise<BroadcastResult>;
  receipt(hash: string): Promise<Receipt | null>;
  /** Re-runs a call at a block to learn why it reverted; null if it does not. */
  revertReason(call: CallRequest, blockNumber: number): Promise<string | null>;
  logs(filter: { addresses: string[]; fromBlock: number; toBlock: number }): Promise<Log[]>;
  /** Whether contract code exists at the address (a reset dev chain has none). */
  hasCode(address: string): Promise<boolean>;
}
