import { getAddress } from "ethers";
import type { Logger } from "pino";
import type { Config } from "../../config/schema.js";
import { EventFeed } from "../../domain/subscriptions/feed.js";
import { EventOutbox } from "../../domain/subscriptions/outbox.js";
import type { ConnectionStore } from "../../ports/connections.js";
import type { OrganizationStore, ReleaseStore } from "../../ports/store.js";
import type { ContractEvent, ReleaseHistory, SubscriptionStore } from "../../ports/subscriptions.js";
import type { Wallet } from "../../ports/wallet.js";
import { checksum } from "../../transport/services/checksum.js";
import { WalletSecretSealer } from "../crypto/wallet-secret-sealer.js";
import { WebhookDispatcher } from "./dispatcher.js";
import { HttpSender } from "./http-sender.js";

/** What the indexer's projection offers: listeners of committed ranges. */
export interface CommitSource {
  onCommitted(listener: (batch: { events: ContractEvent[] }) => void, options?: { inTransaction?: boolean }): () => void;
}

export interface SubscriptionsRuntime {
  feed: EventFeed;
  dispatcher: WebhookDispatcher;
  /** Wakes the dispatcher and the event streams. */
  kick(): void;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface SubscriptionsParts {
  config: Pick<Config, "subscriptions" | "subscriptionAuthTokenInBody">;
  store: SubscriptionStore & ReleaseHistory;
  releases: Pick<ReleaseStore, "findRelease">;
  orgs: Pick<OrganizationStore, "findOrganization" | "findParty">;
  connections?: Pick<ConnectionStore, "findInvitation">;
  source: CommitSource;
  wallet: Pick<Wallet, "address" | "callbackPrivateKey" | "encryptionPublicKeyPem" | "unwrapKey">;
  log: Logger;
  /** The clock of retention; Date.now by default. */
  now?: () => number;
}

/** How often retention runs (and once at start). */
const PRUNE_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Notifications end to end: the outbox written in the indexer's transaction, the dispatcher
 * that delivers it, and the feed that wakes WatchEvents streams. Call before the indexer
 * starts, so that no committed range is missed.
 */
export function startSubscriptions(p: SubscriptionsParts): SubscriptionsRuntime {
  const s = p.config.subscriptions;
  const outbox = new EventOutbox({
    store: p.store,
    history: p.store,
    releases: p.releases,
    orgs: p.orgs,
    connections: p.connections,
    self: p.wallet.address,
    checksum,
  });
  const sender = new HttpSender({
    connectTimeoutMs: s.connectTimeoutMs,
    responseTimeoutMs: s.responseTimeoutMs,
    maxResponseBytes: s.maxResponseBytes,
    connections: s.concurrency,
  });
  const dispatcher = new WebhookDispatcher({
    store: p.store,
    sender,
    signingKey: () => p.wallet.callbackPrivateKey(),
    secrets: new WalletSecretSealer(p.wallet),
    issuer: getAddress(p.wallet.address),
    log: p.log,
    retry: s.retry,
    concurrency: s.concurrency,
    tokenLifetimeSeconds: s.tokenLifetimeSeconds,
    tokenInBody: p.config.subscriptionAuthTokenInBody,
    eventIdInBody: s.eventIdInBody,
    pollIntervalMs: s.pollIntervalMs,
  });
  const feed = new EventFeed();
  const kick = () => {
    dispatcher.kick();
    feed.notify();
  };
  const offWrite = p.source.onCommitted((batch) => void outbox.record(batch.events), { inTransaction: true });
  const offKick = p.source.onCommitted(kick);
  dispatcher.start();
  const now = p.now ?? Date.now;
  const prune = () => {
    try {
      const removed = p.store.pruneBefore(now() - s.retention.days * DAY_MS);
      if (removed.events + removed.deliveries + removed.attempts > 0) {
        p.log.info({ ...removed, days: s.retention.days }, "subscriptions: retention removed old events, deliveries and attempts");
      }
    } catch (err) {
      p.log.error({ err }, "subscriptions: retention failed");
    }
  };
  prune();
  const pruning = setInterval(prune, PRUNE_INTERVAL_MS);
  pruning.unref();
  let stopped: Promise<void> | undefined;
  return {
    feed,
    dispatcher,
    kick,
    stop() {
      stopped ??= (async () => {
        clearInterval(pruning);
        offWrite();
        offKick();
        await dispatcher.stop();
        await sender.close();
      })();
      return stopped;
    },
  };
}
