import { hexlify, id as keccakText, randomBytes } from "ethers";
import { interfaces } from "../../adapters/chain/evm/contracts.js";
import type {
  ConnectionRecord,
  ConnectionStore,
  InvitationDirectionWord,
  InvitationRecord,
  InvitationStatusWord,
} from "../../ports/connections.js";
import type { ChainContext } from "../../context.js";
import type { Identity } from "../../ports/identity.js";
import type { OperationRecord } from "../../ports/operations.js";
import type { OrganizationStore } from "../../ports/store.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import { checkInvitation, checkInvitationId, normalizeVat } from "./validation.js";

/** The status an API caller sees: an open invitation to an unregistered VAT awaits registration. */
export type InvitationStatusView = InvitationStatusWord | "awaitingRegistration";

export interface InvitationView extends Omit<InvitationRecord, "status"> {
  status: InvitationStatusView;
  inviterName: string;
  inviterVat: string;
}

/** A write's answer: the invitation as it stands, and the operation carrying the write out
 * (none for a retried create whose operation is no longer known). */
export interface InvitationWrite {
  invitation: InvitationView;
  operation: OperationRecord | undefined;
}

export interface ConnectionsDeps {
  repo: ConnectionStore;
  orgs: OrganizationStore;
  identity: Identity;
  chain?: ChainContext;
  /** Wraps the local write and the submission in one SQLite transaction. */
  transaction<T>(fn: () => T): T;
  /** The operation recorded under an idempotency key. */
  operationByKey?(key: string): OperationRecord | undefined;
}

/**
 * A CreateInvitation whose transaction failed (it reverted): the invitation never existed on
 * chain, so the row stored before submitting is removed.
 */
export function forgetFailedInvitation(repo: ConnectionStore, op: OperationRecord): void {
  if (op.kind !== "create_invitation" || op.state !== "failed") return;
  let id: string;
  try {
    id = String(interfaces.connections.decodeFunctionData("invite", op.data)[0]);
  } catch {
    return;
  }
  const row = repo.findInvitation(id);
  if (row && row.direction === "outgoing" && row.status === "pending") repo.deleteInvitation(id);
}

/** Invitations and connections: the trust store of ConnectionService. */
export class ConnectionsService {
  constructor(private readonly d: ConnectionsDeps) {}

  private get chain(): ChainContext {
    if (!this.d.chain) throw new UnavailableError("this gateway is not connected to a chain");
    return this.d.chain;
  }

  create(req: { reference: string; name: string; vat: string; contactEmail: string; idempotencyKey: string }): InvitationWrite {
    const input = checkInvitation(req);
    const self = this.d.identity.self();
    const selfAddress = self.address.toLowerCase();
    const chain = this.chain;
    // A retried request (same idempotency key) names the same invitation.
    const id = req.idempotencyKey ? keccakText(`scr-invitation:${selfAddress}:${req.idempotencyKey}`) : hexlify(randomBytes(32));
    const retried = this.d.repo.findInvitation(id);
    if (retried) {
      if (retried.vat !== input.vat || retried.name !== input.name || retried.contactEmail !== input.contactEmail) {
        throw new AlreadyExistsError(`Idempotency-Key ${req.idempotencyKey} was already used for a different invitation`);
      }
      const prior = req.idempotencyKey ? this.d.operationByKey?.(req.idempotencyKey) : undefined;
      return { invitation: this.view(retried), operation: prior };
    }

    if (input.vat === normalizeVat(self.vat)) throw new InvalidArgumentError("vat", "is this organisation's own VAT number");
    const invitee = this.d.repo.organizationByVat(input.vat);
    if (invitee && this.d.repo.isConnected(invitee.address)) {
      throw new AlreadyExistsError(`already connected with the organisation with VAT number ${input.vat}`);
    }
    if (this.d.repo.pendingOutgoingTo(input.vat)) {
      throw new AlreadyExistsError(`an invitation to VAT number ${input.vat} is already pending`);
    }
    const now = Date.now();
    const record: InvitationRecord = {
      id,
      inviter: selfAddress,
      invitee: null,
      vat: input.vat,
      name: input.name,
      contactEmail: input.contactEmail,
      status: "pending",
      direction: "outgoing",
      reference: input.reference,
      createdAt: now,
      updatedAt: now,
    };
    const operation = this.d.transaction(() => {
      // Stored first, with the reference, so the indexer finds it when the event arrives.
      this.d.repo.upsertInvitation(record);
      return chain.pipeline.submit({
        kind: "create_invitation",
        to: chain.addresses.connections,
        data: interfaces.connections.encodeFunctionData("invite", [id, input.vat, input.name, input.contactEmail]),
        idempotencyKey: req.idempotencyKey || undefined,
      }).operation;
    });
    return { invitation: this.view(record), operation };
  }

  accept(req: { id: string; idempotencyKey: string }): InvitationWrite {
    return this.answer("accept", req);
  }

  refuse(req: { id: string; idempotencyKey: string }): InvitationWrite {
    return this.answer("refuse", req);
  }

  private answer(fn: "accept" | "refuse", req: { id: string; idempotencyKey: string }): InvitationWrite {
    const id = checkInvitationId(req.id);
    this.d.identity.self();
    const chain = this.chain;
    const inv = this.d.repo.findInvitation(id);
    if (!inv || inv.direction !== "incoming") throw new NotFoundError(`no invitation ${req.id} was received`);
    if (inv.status !== "pending") throw new FailedPreconditionError(`the invitation ${req.id} is already ${inv.status}`);
    const { operation } = chain.pipeline.submit({
      kind: `${fn}_invitation`,
      to: chain.addresses.connections,
      data: interfaces.connections.encodeFunctionData(fn, [id]),
      idempotencyKey: req.idempotencyKey || undefined,
    });
    return { invitation: this.view(inv), operation };
  }

  list(filter: { direction?: InvitationDirectionWord; status?: InvitationStatusView }): InvitationView[] {
    this.d.identity.self();
    const status = filter.status === "awaitingRegistration" ? "pending" : filter.status;
    const views = this.d.repo.listInvitations({ direction: filter.direction, status }).map((r) => this.view(r));
    return filter.status ? views.filter((v) => v.status === filter.status) : views;
  }

  connections(): ConnectionRecord[] {
    this.d.identity.self();
    return this.d.repo.listConnections();
  }

  private view(r: InvitationRecord): InvitationView {
    const inviter = this.d.orgs.findOrganization(r.inviter);
    const registered = r.invitee ? { address: r.invitee } : this.d.repo.organizationByVat(r.vat);
    return {
      ...r,
      invitee: registered?.address ?? null,
      status: r.status === "pending" && !registered ? "awaitingRegistration" : r.status,
      inviterName: inviter?.name ?? "",
      inviterVat: inviter?.vat ?? "",
    };
  }
}
