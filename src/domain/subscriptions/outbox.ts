import { getAddress } from "ethers";
import type { ConnectionStore } from "../../ports/connections.js";
import type { OrganizationStore, ReleaseStore } from "../../ports/store.js";
import type { ContractEvent, EventRecord, NewEvent, ReleaseHistory, SubscriptionStore } from "../../ports/subscriptions.js";
import { INVITATION_ANSWERS, RELEASE_EVENT_KINDS, invitationNotification, ordinalsInTx, releaseNotifications } from "./events.js";

export interface OutboxDeps {
  store: Pick<SubscriptionStore, "appendEvents">;
  history: ReleaseHistory;
  releases: Pick<ReleaseStore, "findRelease">;
  orgs: Pick<OrganizationStore, "findOrganization" | "findParty">;
  connections?: Pick<ConnectionStore, "findInvitation">;
  /** This organisation's address. */
  self: string;
  /** EIP-55 checksums (memoised by the caller, as they cost a keccak each). */
  checksum?: (address: string) => string;
  now?: () => number;
}

/**
 * Turns the contract events of a committed range into this organisation's notifications and
 * appends them to the event log, with a pending delivery per subscription. It runs inside the
 * indexer's transaction, after the cache was written: the notifications are durable exactly
 * when the change they announce is, and a range applied again adds nothing (stable ids).
 */
export class EventOutbox {
  private readonly self: string;
  private readonly checksummed: string;
  private readonly now: () => number;

  constructor(private readonly d: OutboxDeps) {
    this.self = d.self.toLowerCase();
    this.checksummed = getAddress(this.self);
    this.now = d.now ?? Date.now;
  }

  record(events: readonly ContractEvent[]): EventRecord[] {
    const now = this.now();
    const out: NewEvent[] = [];
    const ordinals = ordinalsInTx(events);
    const byRelease = new Map<string, ContractEvent[]>();
    for (const e of events) {
      if (e.contract === "releaseRegistry" && e.subject && RELEASE_EVENT_KINDS[e.name]) {
        const list = byRelease.get(e.subject) ?? [];
        list.push(e);
        byRelease.set(e.subject, list);
      }
    }
    if (byRelease.size > 0) {
      const self = { address: this.self, checksummed: this.checksummed, vat: this.d.orgs.findOrganization(this.self)?.vat ?? "" };
      for (const [release, list] of byRelease) {
        const history = this.d.history.releaseEvents(release);
        const fallback = this.d.releases.findRelease(release)?.owners ?? [];
        out.push(...releaseNotifications({ events: list, history, fallbackOwners: fallback, self, ordinals, now, checksum: this.d.checksum }));
      }
    }
    for (const e of events) {
      const n = this.invitation(e, ordinals.get(`${e.blockNumber}:${e.logIndex}`) ?? 0, now);
      if (n) out.push(n);
    }
    if (out.length === 0) return [];
    out.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    return this.d.store.appendEvents(out);
  }

  /** An answer to an invitation this organisation sent. */
  private invitation(e: ContractEvent, ordinalInTx: number, now: number): NewEvent | undefined {
    const status = INVITATION_ANSWERS[e.name];
    if (e.contract !== "connections" || !status || !e.subject) return undefined;
    const args = JSON.parse(e.args) as { inviter?: string; invitee?: string };
    if (args.inviter?.toLowerCase() !== this.self || !args.invitee) return undefined;
    const invitee = args.invitee.toLowerCase();
    const party = this.d.orgs.findParty(invitee);
    return invitationNotification(
      {
        event: e,
        self: this.self,
        ordinalInTx,
        status,
        reference: this.d.connections?.findInvitation(e.subject)?.reference ?? null,
        other: { address: invitee, name: party?.name ?? "", vat: party?.vat ?? "", publicKey: party?.publicKey ?? "" },
      },
      now,
    );
  }
}
