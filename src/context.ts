import type { Logger } from "pino";
import type { Config } from "./config/schema.js";
import type { WritePipeline } from "./domain/operations/pipeline.js";
import type { ReleaseQueries } from "./domain/releases/queries.js";
import type { ContractAddresses } from "./adapters/chain/evm/contracts.js";
import type { Identity } from "./ports/identity.js";
import type { ReleaseCrypto } from "./ports/release-crypto.js";
import type { ReleaseLedger, ReleaseReader } from "./ports/release-ledger.js";
import type { Store } from "./ports/store.js";
import type { Wallet } from "./ports/wallet.js";
import type { TokenVerifier } from "./auth/verifier.js";
import type { IndexerStatus } from "./domain/indexer/indexer.js";
import type { EventFeed } from "./domain/subscriptions/feed.js";

/** The chain side: present when the gateway runs against a node (always, outside tests). */
export interface ChainContext {
  wallet: Wallet;
  pipeline: WritePipeline;
  addresses: ContractAddresses;
  /** The release registry's calls. */
  ledger: ReleaseLedger;
  /** Reads of the release registry for releases not in the cache. */
  reader: ReleaseReader;
  /** Sealing and opening release data, pincodes and assignments with this wallet. */
  crypto: ReleaseCrypto;
}

/** Everything the transports need, built once by main.ts (or by a test with its own parts). */
export interface AppContext {
  config: Config & { baseDir: string };
  logger: Logger;
  store: Store;
  identity: Identity;
  releases: ReleaseQueries;
  chain?: ChainContext;
  /** Present when `authentication` is configured: every request must carry a valid JWT. */
  auth?: { verifier: TokenVerifier };
  /** Notifications: present when the indexer feeds the event log (main.ts). */
  subscriptions?: { feed: EventFeed; kick(): void };
  /** The chain's side of /readyz, /metrics and /status; main.ts fills it beside `chain`. */
  health?: {
    chainHead(): Promise<number>;
    indexer(): { head: number | null; lag: number | null } & Partial<IndexerStatus>;
    /** The node's JSON-RPC URL, and whether it is the embedded local chain. */
    rpcUrl?: string;
    local?: boolean;
  };
}
