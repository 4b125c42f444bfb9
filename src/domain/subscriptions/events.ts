/**
 * Which contract events become notifications for this organisation, and what they say.
 *
 * A gateway is one organisation; its subscribers are that organisation's systems. So each
 * contract event gives at most one notification per event type, when this organisation is
 * concerned:
 *
 * - TRANSFER (ReleaseTransferred): the new owner, and the owner that made it (the spec: "for
 *   transfers and revokes … executed by your own organization … a notification is also sent").
 * - REVOKE (ReleaseRevoked): every organisation in the ownership chain as it was before the
 *   revoke, the ones cut out included (the spec, for API 1.2.4 and later).
 * - UPDATE, BLOCK, UNBLOCK, DELETE, GREENLIGHTS: every organisation in the ownership chain at
 *   the time ("a release that has been transferred to your organization is updated, blocked, …"),
 *   except the one that made the change itself: the creator's own writes (update, block,
 *   unblock, delete, a new pincode or terminal) are not reported back to the creator, as the
 *   spec reports only transfers and revokes back to whoever made them.
 *
 * UPDATE stands for every change the spec's field table lists as updated in practice besides
 * blocking and green lights: new release data (ReleaseUpdated), a new pincode after a revoke
 * (PinUpdated), a new terminal (TerminalUpdated), and the gate-out (GateOut).
 *
 * The ownership chain at the time of an event is replayed from the release's recorded events
 * (created, transferred, revoked), so a revoke that cut parties out still reaches them, and a
 * party cut out earlier is no longer told about later changes.
 *
 * Payload: `organization` and `vat` are this organisation's: "the address [and vat] for which
 * the event is reported", added so that "organizations with multiple legal entities" can
 * "collect the notifications using one endpoint and route them". The spec's two examples (a
 * TRANSFER and a GREENLIGHTS of one release) carry the same organisation, which fits the
 * notified party and not the party that acted (a forwarder transfers, a terminal or port system
 * sets green lights).
 */
import { createHash } from "node:crypto";
import { getAddress } from "ethers";
import type { ContractEvent, EventTypeWord, NewEvent } from "../../ports/subscriptions.js";

export type ReleaseEventKindWord = "TRANSFER" | "UPDATE" | "BLOCK" | "UNBLOCK" | "DELETE" | "REVOKE" | "GREENLIGHTS";

/** Contract event → the callback's `event`. Events not listed notify nobody. */
export const RELEASE_EVENT_KINDS: Readonly<Record<string, ReleaseEventKindWord>> = {
  ReleaseTransferred: "TRANSFER",
  ReleaseRevoked: "REVOKE",
  ReleaseUpdated: "UPDATE",
  PinUpdated: "UPDATE",
  TerminalUpdated: "UPDATE",
  GateOut: "UPDATE",
  ReleaseBlocked: "BLOCK",
  ReleaseUnblocked: "UNBLOCK",
  ReleaseDeleted: "DELETE",
  GreenLightsUpdated: "GREENLIGHTS",
};

/** Writes only the creator may make: not reported back to the creator. */
const CREATOR_WRITES = new Set(["ReleaseUpdated", "PinUpdated", "TerminalUpdated", "ReleaseBlocked", "ReleaseUnblocked", "ReleaseDeleted"]);

/** The onRelease callback body, exactly the spec's keys. */
export interface ReleasePayload {
  release: string;
  event: ReleaseEventKindWord;
  organization: string;
  vat: string;
}

/** The onAcceptInvitation callback body: reference, status and a GET /connections entry. */
export interface InvitationPayload {
  reference: string | null;
  status: "accepted" | "refused";
  name: string;
  vat: string;
  address: string;
  publicKey: string;
}

/**
 * A stable id: the same chain log gives the same id on every retry and re-index. It is made of
 * the transaction and the log's place among that transaction's logs (not the block's log
 * index, which changes when a reorg mines the transaction into another block), and of the
 * organisation told, so that the legal entities of one group sharing an endpoint (the spec's
 * reason for `organization` and `vat`) do not de-duplicate each other's notifications.
 */
export function eventIdOf(txHash: string, ordinalInTx: number, type: EventTypeWord, organization: string): string {
  const digest = createHash("sha256").update(`${txHash.toLowerCase()}:${ordinalInTx}:${type}:${organization.toLowerCase()}`).digest("hex");
  return `evt_${digest.slice(0, 32)}`;
}

/**
 * Each log's place among the logs of its transaction (all of a transaction's logs are in one
 * block, so in one committed range), by `block:logIndex`.
 */
export function ordinalsInTx(events: readonly ContractEvent[]): Map<string, number> {
  const sorted = [...events].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  const seen = new Map<string, number>();
  const out = new Map<string, number>();
  for (const e of sorted) {
    const n = seen.get(e.txHash) ?? 0;
    seen.set(e.txHash, n + 1);
    out.set(positionOf(e), n);
  }
  return out;
}

const positionOf = (e: Pick<ContractEvent, "blockNumber" | "logIndex">) => `${e.blockNumber}:${e.logIndex}`;

function argsOf(e: ContractEvent): Record<string, unknown> {
  try {
    const args = JSON.parse(e.args) as unknown;
    return args && typeof args === "object" ? (args as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const addressArg = (args: Record<string, unknown>, name: string): string | undefined => {
  const v = args[name];
  return typeof v === "string" ? v.toLowerCase() : undefined;
};

/**
 * The ownership chain just before each event of a release's history, by `block:logIndex`.
 * `fallback` (the cached owners) stands in for a history that does not start with the
 * release's creation, e.g. a gateway that started indexing later.
 */
export function ownersBefore(history: readonly ContractEvent[], fallback: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const created = history.some((e) => e.name === "ReleaseCreated");
  let owners: string[] = created ? [] : fallback.map((a) => a.toLowerCase());
  for (const e of history) {
    out.set(positionOf(e), owners);
    const args = argsOf(e);
    if (e.name === "ReleaseCreated") {
      const creator = addressArg(args, "creator");
      owners = creator ? [creator] : owners;
    } else if (e.name === "ReleaseTransferred") {
      const to = addressArg(args, "to");
      if (to && !owners.includes(to)) owners = [...owners, to];
    } else if (e.name === "ReleaseRevoked") {
      const by = addressArg(args, "by");
      const at = by ? owners.indexOf(by) : -1;
      if (at >= 0) owners = owners.slice(0, at + 1);
    }
  }
  return out;
}

/** The organisations (lower case) a release event is reported to, given the chain before it. */
export function notifiedBy(e: ContractEvent, owners: readonly string[]): Set<string> {
  const args = argsOf(e);
  switch (e.name) {
    case "ReleaseTransferred":
      return new Set([addressArg(args, "from"), addressArg(args, "to")].filter((a): a is string => !!a));
    case "ReleaseRevoked": {
      const by = addressArg(args, "by");
      const from = addressArg(args, "from");
      return new Set([...owners, ...(by ? [by] : []), ...(from ? [from] : [])]);
    }
    default: {
      if (!RELEASE_EVENT_KINDS[e.name]) return new Set();
      const creator = owners[0];
      return new Set(CREATOR_WRITES.has(e.name) ? owners.filter((o) => o !== creator) : owners);
    }
  }
}

export interface Self {
  /** Lower case. */
  address: string;
  /** The same, checksummed, as the payload shows it. */
  checksummed: string;
  vat: string;
}

/**
 * The onRelease notifications of `events` (one release's new events, in chain order) for
 * `self`, given the release's whole recorded history (which includes them).
 */
export function releaseNotifications(r: {
  events: readonly ContractEvent[];
  history: readonly ContractEvent[];
  /** The cached owners, for a history that does not start with the creation. */
  fallbackOwners: readonly string[];
  self: Self;
  /** From `ordinalsInTx` over the whole range. */
  ordinals: ReadonlyMap<string, number>;
  now: number;
  checksum?: (address: string) => string;
}): NewEvent[] {
  const { events, fallbackOwners, self, now } = r;
  const checksum = r.checksum ?? getAddress;
  const before = ownersBefore(r.history, fallbackOwners);
  const out: NewEvent[] = [];
  for (const e of events) {
    const kind = RELEASE_EVENT_KINDS[e.name];
    if (!kind || !e.subject) continue;
    const owners = before.get(positionOf(e)) ?? fallbackOwners;
    if (!notifiedBy(e, owners).has(self.address)) continue;
    const payload: ReleasePayload = { release: checksum(e.subject), event: kind, organization: self.checksummed, vat: self.vat };
    out.push({
      eventId: eventIdOf(e.txHash, r.ordinals.get(positionOf(e)) ?? 0, "onRelease", self.address),
      type: "onRelease",
      kind,
      orderingKey: `release:${e.subject}`,
      payload: JSON.stringify(payload),
      blockNumber: e.blockNumber,
      txHash: e.txHash,
      logIndex: e.logIndex,
      createdAt: now,
    });
  }
  return out;
}

/** An answered invitation this organisation sent, with what the callback tells about it. */
export interface AnsweredInvitation {
  event: ContractEvent;
  /** This organisation (the inviter), lower case. */
  self: string;
  /** The log's place among its transaction's logs. */
  ordinalInTx: number;
  status: "accepted" | "refused";
  reference: string | null;
  other: { address: string; name: string; vat: string; publicKey: string };
}

export function invitationNotification(a: AnsweredInvitation, now: number): NewEvent {
  const payload: InvitationPayload = {
    reference: a.reference,
    status: a.status,
    name: a.other.name,
    vat: a.other.vat,
    address: getAddress(a.other.address),
    publicKey: a.other.publicKey,
  };
  return {
    eventId: eventIdOf(a.event.txHash, a.ordinalInTx, "onAcceptInvitation", a.self),
    type: "onAcceptInvitation",
    kind: a.status,
    orderingKey: `invitation:${a.event.subject ?? ""}`,
    payload: JSON.stringify(payload),
    blockNumber: a.event.blockNumber,
    txHash: a.event.txHash,
    logIndex: a.event.logIndex,
    createdAt: now,
  };
}

/** The contract's answers to an invitation, as the callback's status. */
export const INVITATION_ANSWERS: Readonly<Record<string, "accepted" | "refused">> = {
  InvitationAccepted: "accepted",
  InvitationRefused: "refused",
};
