/**
 * The SCR projection: contract logs → the local cache.
 *
 * Idempotent by construction: it records each log once (`chain_events`, unique by block hash
 * and log index) and, for every release and organisation a range touched, re-reads the
 * contract state at the range's last block instead of replaying deltas. Applying a range
 * twice, or again after a reorg, gives the same cache.
 */
import { Contract, Interface, ZeroAddress, isError, type LogDescription, type Provider } from "ethers";
import type { Logger } from "pino";
import type { BlockRange, Projection } from "../../../domain/indexer/projection.js";
import type { ReleaseRecord } from "../../../domain/releases/model.js";
import { initialGreenLights } from "../../../domain/releases/greenlights.js";
import type { Log } from "../../../ports/chain.js";
import type { Store } from "../../../ports/store.js";
import type { Wallet } from "../../../ports/wallet.js";
import type { ConnectionStore, InvitationStatusWord } from "../../../ports/connections.js";
import type { ChainEventRecord, IndexerRepository } from "../../store/sqlite/indexer-repository.js";
import { normalizeVat } from "../../../domain/connections/validation.js";
import { ROLE_WORDS, decodeRevert, interfaces, type ContractAddresses } from "./contracts.js";
import { decodeGreenLights, openAssignment, openRelease, pinToHex } from "./release-codec.js";

/** The release format version the contracts implement; `ReleaseRecord.version`. */
export const RELEASE_CONTRACT_VERSION = "1.0.0";

export interface ScrProjectionOptions {
  /** Reads contract state (e.g. `EvmChain.provider`). */
  provider: Provider;
  addresses: ContractAddresses;
  store: Store;
  /** chain_events and cache removal, on the same SQLite connection as `store`. */
  repository: IndexerRepository;
  wallet: Pick<Wallet, "address" | "unwrapKey">;
  log: Logger;
  /** The invitations and connections cache; without it Connections events are only recorded. */
  connections?: ConnectionStore;
  /** Reads of contract state in flight at once. Default 8. */
  readConcurrency?: number;
}

export interface CachedOrganization {
  address: string;
  name: string;
  vat: string;
  role: string;
  publicKey: string;
}

/** What one committed range changed. */
export interface CommittedBatch {
  range: BlockRange;
  /** The events newly recorded (a log already recorded is not repeated). */
  events: ChainEventRecord[];
  /** Lower-case addresses of the releases and organisations written. */
  releases: string[];
  organizations: string[];
}

export type CommitListener = (batch: CommittedBatch) => void;

export interface ScrPrepared {
  range: BlockRange;
  events: ChainEventRecord[];
  organizations: { address: string; org: CachedOrganization | null }[];
  releases: ReleaseRecord[];
  /** Connections invitations the range touched, as the contract holds them at its last block. */
  invitations: { id: string; invitation: InvitationStruct }[];
  /** Set by commit: what the transaction wrote. */
  batch?: CommittedBatch;
}

type ContractKey = keyof ContractAddresses;

/** The Release struct as ethers decodes it. */
interface ReleaseStruct {
  creator: string;
  version: bigint;
  updatedAt: bigint;
  terminal: string;
  gateOut: bigint;
  blocked: boolean;
  deleted: boolean;
  pinRetrieved: boolean;
  createdAt: bigint;
  owners: string[];
  sealedData: string;
  encryptedPin: string;
  pinForTerminal: string;
  assignment: string;
  greenLights: string;
}

/** Connections.Invitation as ethers decodes it. */
interface InvitationStruct {
  inviter: string;
  status: bigint;
  createdAt: bigint;
  answeredAt: bigint;
  invitee: string;
  vat: string;
  name: string;
  contactEmail: string;
}

const INVITATION_STATUS: Record<number, InvitationStatusWord | undefined> = { 1: "pending", 2: "accepted", 3: "refused" };

type ReleaseRead = { found: false } | { found: true; release: ReleaseStruct; wrappedKey: string };

const HISTORY_UNAVAILABLE = /missing trie node|historical state|state (is )?(not available|unavailable|pruned)|header not found|pruned/i;

const lower = (s: string) => s.toLowerCase();
const secondsToDate = (s: bigint) => new Date(Number(s) * 1000);

/** Event args as JSON-safe values: bigints as decimal strings, tuples as arrays. */
function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value && typeof value === "object") {
    const o = value as { _isIndexed?: boolean; hash?: string };
    if (o._isIndexed) return o.hash ?? null;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  }
  return value;
}

function argsOf(parsed: LogDescription): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    args[input.name || String(i)] = jsonValue(parsed.args[i]);
  });
  return args;
}

function subjectOf(contract: ContractKey, args: Record<string, unknown>): string | null {
  const s = contract === "organizationRegistry" ? (args.account ?? args.newAdmin) : args.id;
  return typeof s === "string" ? lower(s) : null;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class ScrProjection implements Projection<ScrPrepared> {
  private readonly self: string;
  private readonly byAddress: Map<string, { key: ContractKey; iface: Interface }>;
  private readonly registry: Contract;
  private readonly releasesContract: Contract;
  private readonly connectionsContract: Contract;
  private readonly concurrency: number;
  private readonly inTransaction = new Set<CommitListener>();
  private readonly afterCommit = new Set<CommitListener>();

  constructor(private readonly opts: ScrProjectionOptions) {
    this.self = lower(opts.wallet.address);
    this.byAddress = new Map(
      (Object.keys(opts.addresses) as ContractKey[]).map((key) => [lower(opts.addresses[key]), { key, iface: interfaces[key] }]),
    );
    this.registry = new Contract(opts.addresses.organizationRegistry, interfaces.organizationRegistry, opts.provider);
    this.releasesContract = new Contract(opts.addresses.releaseRegistry, interfaces.releaseRegistry, opts.provider);
    this.connectionsContract = new Contract(opts.addresses.connections, interfaces.connections, opts.provider);
    this.concurrency = Math.max(1, opts.readConcurrency ?? 8);
  }

  /**
   * Listens to committed ranges. By default the listener runs once the transaction is durable;
   * with `{ inTransaction: true }` it runs inside it, after the projection's writes, so what it
   * writes to SQLite (an outbox) commits or rolls back with the range. Such a listener must be
   * synchronous and do no I/O; if it throws, the range is rolled back and retried.
   * Returns a function that removes the listener.
   */
  onCommitted(listener: CommitListener, options: { inTransaction?: boolean } = {}): () => void {
    const set = options.inTransaction ? this.inTransaction : this.afterCommit;
    set.add(listener);
    return () => set.delete(listener);
  }

  // ------------------------------------------------------------------------------- Projection

  async prepare(logs: Log[], range: BlockRange): Promise<ScrPrepared> {
    const events: ChainEventRecord[] = [];
    for (const log of logs) {
      const event = this.decode(log);
      if (event) events.push(event);
    }
    const { releaseIds, accounts, invitationIds } = this.touchedBy(events);
    const organizations = await mapLimit([...accounts], this.concurrency, async (address) => ({
      address,
      org: await this.readOrganization(address, range.to),
    }));
    const self = organizations.find((o) => o.address === this.self)?.org;
    if (self) for (const id of this.invitationsTo(self.vat, events)) invitationIds.add(id);
    const invitations = await mapLimit([...invitationIds], this.concurrency, async (id) => ({
      id,
      invitation: await this.call<InvitationStruct>(this.connectionsContract, "getInvitation", [id], range.to),
    }));
    const releases: ReleaseRecord[] = [];
    await mapLimit([...releaseIds], this.concurrency, async (id) => {
      const read = await this.readRelease(id, range.to);
      if (!read.found) {
        this.opts.log.warn({ release: id, block: range.to }, "a release with events does not exist on chain; skipped");
        return;
      }
      const record = this.toRecord(id, read.release, read.wrappedKey);
      if (record) releases.push(record);
    });
    return { range, events, organizations, releases, invitations };
  }

  commit(p: ScrPrepared): void {
    const inserted = p.events.filter((e) => this.opts.repository.insertEvent(e));
    for (const { address, org } of p.organizations) {
      if (org) this.opts.store.upsertOrganization(org);
      else this.opts.repository.deleteOrganization(address);
    }
    for (const r of p.releases) this.opts.store.upsertRelease(r);
    for (const { id, invitation } of p.invitations) this.applyInvitation(id, invitation);
    p.batch = {
      range: p.range,
      events: inserted,
      releases: p.releases.map((r) => lower(r.address)),
      organizations: p.organizations.map((o) => o.address),
    };
    for (const listener of this.inTransaction) listener(p.batch);
  }

  committed(p: ScrPrepared): void {
    if (!p.batch) return;
    for (const listener of this.afterCommit) {
      try {
        listener(p.batch);
      } catch (err) {
        this.opts.log.error({ err }, "a listener of committed chain events failed");
      }
    }
  }

  /**
   * Forgets the events of blocks after `toBlock` and re-reads, as of `toBlock`, every release
   * and organisation they touched (removing those that did not exist yet).
   */
  async rewind(toBlock: number): Promise<void> {
    const orphaned = this.opts.repository.eventsAfter(toBlock);
    const { releaseIds, accounts, invitationIds } = this.touchedBy(orphaned);
    const orgs = await mapLimit([...accounts], this.concurrency, async (address) => ({
      address,
      org: toBlock < 0 ? null : await this.readOrganization(address, toBlock),
    }));
    const releases = await mapLimit([...releaseIds], this.concurrency, async (id) => {
      const read: ReleaseRead = toBlock < 0 ? { found: false } : await this.readRelease(id, toBlock);
      return { id, record: read.found ? this.toRecord(id, read.release, read.wrappedKey) : undefined, gone: !read.found };
    });
    const invitations = await mapLimit([...invitationIds], this.concurrency, async (id) => ({
      id,
      invitation: toBlock < 0 ? undefined : await this.call<InvitationStruct>(this.connectionsContract, "getInvitation", [id], toBlock),
    }));
    // Connections the orphaned blocks may have made: kept only if the chain still has them.
    const others = new Set<string>();
    for (const { id } of invitations) {
      const row = this.opts.connections?.findInvitation(id);
      if (row?.status === "accepted") others.add(row.direction === "outgoing" ? (row.invitee ?? "") : row.inviter);
    }
    others.delete("");
    const stillConnected = await mapLimit([...others], this.concurrency, async (other) => ({
      other,
      connected: toBlock >= 0 && (await this.call<boolean>(this.connectionsContract, "isConnected", [this.self, other], toBlock)),
    }));
    this.opts.store.transaction(() => {
      this.opts.repository.deleteEventsAfter(toBlock);
      for (const { other, connected } of stillConnected) if (!connected) this.opts.connections?.deleteConnection(other);
      for (const { id, invitation } of invitations) {
        const row = this.opts.connections?.findInvitation(id);
        if (invitation && Number(invitation.status) !== 0) this.applyInvitation(id, invitation);
        // Not on chain as of toBlock: an incoming one is forgotten; an outgoing one is ours,
        // stored before it was sent, and stays pending while the pipeline re-sends it.
        else if (row?.direction === "incoming") this.opts.connections?.deleteInvitation(id);
        else if (row) this.opts.connections?.upsertInvitation({ ...row, status: "pending", invitee: null });
      }
      for (const { address, org } of orgs) {
        if (org) this.opts.store.upsertOrganization(org);
        else this.opts.repository.deleteOrganization(address);
      }
      for (const { id, record, gone } of releases) {
        if (record) this.opts.store.upsertRelease(record);
        else if (gone) this.opts.repository.deleteRelease(id);
      }
    });
    this.opts.log.info(
      { toBlock, events: orphaned.length, releases: releaseIds.size, organizations: accounts.size },
      "projection rewound after a reorg",
    );
  }

  /**
   * Caches an invitation this organisation sent or may answer (its VAT is the invited one, or
   * it answered), and on acceptance the connection with the other party. Re-applying is
   * harmless: the rows are upserted from the contract state, and a local reference is kept.
   */
  private applyInvitation(id: string, inv: InvitationStruct): void {
    const repo = this.opts.connections;
    const status = INVITATION_STATUS[Number(inv.status)];
    if (!repo || !status) return;
    const inviter = lower(inv.inviter);
    const invitee = inv.invitee === ZeroAddress ? null : lower(inv.invitee);
    const ownVat = this.opts.store.findOrganization(this.self)?.vat;
    const toOwnVat = ownVat !== undefined && normalizeVat(ownVat) === normalizeVat(inv.vat);
    const outgoing = inviter === this.self;
    const incoming = !outgoing && (invitee === this.self || toOwnVat);
    if (!outgoing && !incoming) return;
    const existing = repo.findInvitation(id);
    const createdAt = Number(inv.createdAt) * 1000;
    repo.upsertInvitation({
      id,
      inviter,
      invitee,
      vat: inv.vat,
      name: inv.name,
      contactEmail: inv.contactEmail,
      status,
      direction: existing?.direction ?? (outgoing ? "outgoing" : "incoming"),
      reference: null,
      createdAt: existing?.createdAt ?? createdAt,
      updatedAt: inv.answeredAt > 0n ? Number(inv.answeredAt) * 1000 : createdAt,
    });
    if (status === "accepted") {
      const other = outgoing ? invitee : inviter;
      if (other && other !== this.self) repo.upsertConnection(other, outgoing ? (existing?.reference ?? null) : null);
    }
  }

  // ------------------------------------------------------------------------------- decoding

  private decode(log: Log): ChainEventRecord | undefined {
    const contract = this.byAddress.get(lower(log.address));
    if (!contract) return undefined;
    let parsed: LogDescription | null;
    try {
      parsed = contract.iface.parseLog({ topics: log.topics, data: log.data });
    } catch (err) {
      this.opts.log.warn({ err, tx: log.transactionHash, logIndex: log.logIndex }, "undecodable contract log; skipped");
      return undefined;
    }
    if (!parsed) {
      this.opts.log.debug({ topic: log.topics[0], contract: contract.key }, "unknown event; skipped");
      return undefined;
    }
    const args = argsOf(parsed);
    return {
      blockNumber: log.blockNumber,
      blockHash: lower(log.blockHash),
      logIndex: log.logIndex,
      txHash: lower(log.transactionHash),
      contract: contract.key,
      address: lower(log.address),
      name: parsed.name,
      subject: subjectOf(contract.key, args),
      args: JSON.stringify(args),
    };
  }

  // ------------------------------------------------------------------------------- state reads

  /** A view call at `blockTag`, falling back to the latest state on a node without that history. */
  private async call<T>(contract: Contract, fn: string, args: unknown[], blockTag: number): Promise<T> {
    try {
      return (await contract.getFunction(fn).staticCall(...args, { blockTag })) as T;
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (!HISTORY_UNAVAILABLE.test(text)) throw err;
      this.opts.log.debug({ fn, blockTag }, "state at that block is not available on the node; reading the latest");
      return (await contract.getFunction(fn).staticCall(...args)) as T;
    }
  }

  private async readOrganization(address: string, blockTag: number): Promise<CachedOrganization | null> {
    let org: { name: string; vat: string; role: bigint; publicKey: string; registered: boolean };
    try {
      org = await this.call(this.registry, "getOrganization", [address], blockTag);
    } catch (err) {
      if (isError(err, "BAD_DATA")) return null; // no contract at that block
      throw err;
    }
    if (!org.registered) return null;
    return { address, name: org.name, vat: org.vat, role: ROLE_WORDS[Number(org.role)] ?? "", publicKey: org.publicKey };
  }

  /**
   * Invitations ever sent to `vat`, recorded or in `pending`: when this organisation registers
   * (or changes its VAT), invitations that waited for it are picked up, however long ago they
   * were sent.
   */
  private invitationsTo(vat: string, pending: ChainEventRecord[]): string[] {
    if (!this.opts.connections) return [];
    const wanted = normalizeVat(vat);
    const created = [...this.opts.repository.eventsNamed("connections", "InvitationCreated"), ...pending.filter((e) => e.name === "InvitationCreated")];
    return created
      .filter((e) => {
        const args = JSON.parse(e.args) as { vat?: unknown };
        return e.subject !== null && typeof args.vat === "string" && normalizeVat(args.vat) === wanted;
      })
      .map((e) => e.subject as string);
  }

  /** The releases, organisations and invitations whose state a set of events may have changed. */
  private touchedBy(events: readonly { contract: string; name: string; subject: string | null }[]) {
    const releaseIds = new Set<string>();
    const accounts = new Set<string>();
    const invitationIds = new Set<string>();
    for (const e of events) {
      if (!e.subject) continue;
      if (e.contract === "releaseRegistry") releaseIds.add(e.subject);
      if (e.contract === "connections" && this.opts.connections) invitationIds.add(e.subject);
      if (e.contract === "organizationRegistry" && (e.name === "OrganizationRegistered" || e.name === "OrganizationUpdated")) {
        accounts.add(e.subject);
      }
    }
    return { releaseIds, accounts, invitationIds };
  }

  private async readRelease(id: string, blockTag: number): Promise<ReleaseRead> {
    let release: ReleaseStruct;
    try {
      release = await this.call(this.releasesContract, "getRelease", [id], blockTag);
    } catch (err) {
      if (decodeRevert(err)?.name === "ReleaseNotFound" || isError(err, "BAD_DATA")) return { found: false };
      throw err;
    }
    const wrappedKey = await this.call<string>(this.releasesContract, "wrappedKeyOf", [id, this.self], blockTag);
    return { found: true, release, wrappedKey };
  }

  private assignmentOf(address: string, bytes: string) {
    try {
      return openAssignment(bytes, this.self, this.opts.wallet);
    } catch (err) {
      this.opts.log.warn({ err, release: address }, "cannot open the release's assignment; keeping none");
      return null;
    }
  }

  /**
   * The cache record as this organisation sees it, or undefined when there is nothing to keep:
   * not a party and never cached, or a party without a key for the data yet.
   */
  private toRecord(id: string, r: ReleaseStruct, wrappedKey: string): ReleaseRecord | undefined {
    const log = this.opts.log;
    const address = lower(id);
    const existing = this.opts.store.findRelease(address);
    const owners = [...r.owners].map(lower);
    const terminal = r.terminal === ZeroAddress ? null : lower(r.terminal);
    const isOwner = owners.includes(this.self);
    const isTerminal = terminal === this.self;
    const current = owners[owners.length - 1] === this.self;

    let greenLights;
    try {
      greenLights = decodeGreenLights(r.greenLights);
    } catch (err) {
      log.warn({ err, release: address }, "the release's green lights are malformed; keeping the previous ones");
      greenLights = existing?.greenLights ?? initialGreenLights();
    }
    const common = {
      address,
      creator: lower(r.creator),
      owners,
      terminal,
      // The pincode as wrapped for this organisation: the terminal's copy when it is the
      // terminal and not the current owner.
      encryptedPin: pinToHex(isTerminal && !current ? r.pinForTerminal : r.encryptedPin),
      deleted: r.deleted,
      blocked: r.blocked,
      pinRetrieved: r.pinRetrieved,
      gateOut: r.gateOut === 0n ? null : secondsToDate(r.gateOut),
      createdAt: secondsToDate(r.createdAt),
      updatedAt: secondsToDate(r.updatedAt),
      version: RELEASE_CONTRACT_VERSION,
      greenLights,
      wrappedKey: wrappedKey === "0x" ? "" : lower(wrappedKey),
      assignment: current || isTerminal ? this.assignmentOf(address, r.assignment) : null,
    };

    if (!isOwner && !isTerminal) {
      if (!existing) {
        log.debug({ release: address }, "not a party to this release; not cached");
        return undefined;
      }
      // Cut out of the chain (a revoke): keep the record with the chain's owners, so the
      // visibility rules hide it.
      return { ...common, data: existing.data };
    }
    if (wrappedKey === "0x" || wrappedKey === "") {
      if (!existing) {
        log.debug({ release: address }, "no data key is wrapped for this organisation yet; skipped");
        return undefined;
      }
      return { ...common, data: existing.data };
    }
    try {
      return { ...common, data: openRelease(r.sealedData, wrappedKey, this.opts.wallet) };
    } catch (err) {
      log.warn({ err, release: address }, "cannot open the release data with this organisation's key");
      return existing ? { ...common, data: existing.data } : undefined;
    }
  }
}
