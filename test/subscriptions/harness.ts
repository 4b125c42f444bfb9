/**
 * Notifications without a chain: a real SQLite store, the real outbox, dispatcher and HTTP
 * sender, fed with synthetic committed ranges of contract events exactly as the indexer's
 * projection hands them over (inside the transaction, then after it).
 */
import { WalletSecretSealer } from "../../src/adapters/crypto/wallet-secret-sealer.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, hexlify } from "ethers";
import pino from "pino";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import type { ChainEventRecord } from "../../src/adapters/store/sqlite/indexer-repository.js";
import { startSubscriptions, type CommitSource, type SubscriptionsRuntime } from "../../src/adapters/webhooks/index.js";
import { parseConfig, type ConfigInput } from "../../src/config/load.js";
import { SubscriptionsService } from "../../src/domain/subscriptions/service.js";

export const randomAddress = () => getAddress(hexlify(randomBytes(20)));

type Listener = (batch: { events: ChainEventRecord[] }) => void;

/** The projection's side of `onCommitted`, driven by the test. */
class FakeSource implements CommitSource {
  readonly inTx = new Set<Listener>();
  readonly after = new Set<Listener>();
  onCommitted(listener: Listener, options: { inTransaction?: boolean } = {}) {
    const set = options.inTransaction ? this.inTx : this.after;
    set.add(listener);
    return () => set.delete(listener);
  }
}

/** Builds contract events in chain order, one block each. */
export class Chain {
  private block = 100;
  private event(contract: string, name: string, subject: string, args: Record<string, unknown>): ChainEventRecord {
    this.block++;
    return {
      blockNumber: this.block,
      blockHash: hexlify(randomBytes(32)),
      logIndex: 0,
      txHash: hexlify(randomBytes(32)),
      contract,
      address: "0x" + "11".repeat(20),
      name,
      subject: subject.toLowerCase(),
      args: JSON.stringify(args),
    };
  }
  created(id: string, creator: string) {
    return this.event("releaseRegistry", "ReleaseCreated", id, { id, creator });
  }
  transferred(id: string, from: string, to: string) {
    return this.event("releaseRegistry", "ReleaseTransferred", id, { id, from, to });
  }
  revoked(id: string, by: string, from: string) {
    return this.event("releaseRegistry", "ReleaseRevoked", id, { id, by, from });
  }
  /** ReleaseUpdated, ReleaseBlocked, GreenLightsUpdated, … */
  simple(name: string, id: string) {
    return this.event("releaseRegistry", name, id, { id });
  }
  answered(name: "InvitationAccepted" | "InvitationRefused", id: string, inviter: string, invitee: string) {
    return this.event("connections", name, id, { id, inviter, invitee });
  }
}

export interface Harness {
  store: SqliteStore;
  self: string;
  vat: string;
  publicKeyPem: string;
  runtime: SubscriptionsRuntime;
  service: SubscriptionsService;
  chain: Chain;
  /** Commits one range: chain_events and the outbox in one transaction, then the wake-up. */
  commit(events: ChainEventRecord[]): void;
  stop(): Promise<void>;
}

export function startHarness(config: ConfigInput = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), "scr-subs-"));
  const store = SqliteStore.open(join(dir, "db.sqlite3"));
  const self = randomAddress();
  const vat = "BE0000000777";
  store.upsertOrganization({ address: self.toLowerCase(), name: "Forwarder Self", vat });
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  // The RSA key that seals the subscriptions' secrets at rest.
  const rsa = createEphemeralWallet();
  const source = new FakeSource();
  const runtime = startSubscriptions({
    config: parseConfig(config),
    store: store.subscriptions,
    releases: store,
    orgs: store,
    connections: store.connections,
    source,
    wallet: { address: self, callbackPrivateKey: () => keys.privateKey, encryptionPublicKeyPem: rsa.encryptionPublicKeyPem, unwrapKey: (b) => rsa.unwrapKey(b) },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  const service = new SubscriptionsService({ store: store.subscriptions, kick: runtime.kick, secrets: new WalletSecretSealer(rsa) });
  return {
    store,
    self,
    vat,
    publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    runtime,
    service,
    chain: new Chain(),
    commit(events) {
      const inserted = store.transaction(() => {
        const fresh = events.filter((e) => store.indexer.insertEvent(e));
        for (const l of source.inTx) l({ events: fresh });
        return fresh;
      });
      for (const l of source.after) l({ events: inserted });
    },
    async stop() {
      await runtime.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `fn` returns something other than undefined. */
export async function eventually<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
