import { createHash } from "node:crypto";
import type { ChainContext } from "../../context.js";
import type { OperationRecord } from "../../ports/operations.js";
import type { ContractCall } from "../../ports/release-ledger.js";
import type { Store } from "../../ports/store.js";
import { DeadlineExceededError, FailedPreconditionError, NotFoundError, PermissionDeniedError } from "../errors.js";
import { checkAddress } from "../validation.js";
import { checkAssignee, checkBarge, type AssigneeInput, type BargeInput } from "./assignment.js";
import { chainOf, priorOperation, type RoleCommandsDeps, type WriteInput } from "./carrier-commands.js";
import type { Assignment, Organization, ReleaseRecord } from "./model.js";
import { isVisibleTo } from "./view.js";

export type OwnerCommandsDeps = RoleCommandsDeps<Pick<Store, "findRelease" | "findParty" | "connections" | "drivers" | "transaction">>;

const lower = (s: string) => s.toLowerCase();
const ownerOf = (r: ReleaseRecord) => lower(r.owners[r.owners.length - 1] ?? r.creator);

/**
 * The forwarder's and transporter's writes on a release (and the carrier's transfer to its
 * first party): the rules are checked on the local cache before anything is sent, so a broken
 * rule is refused with a typed error and no operation; then the call is built with the ledger,
 * sealed with the wallet's crypto and recorded in the write pipeline.
 */
export class ReleaseOwnerCommands {
  constructor(private readonly d: OwnerCommandsDeps) {}

  private get chain(): ChainContext {
    return chainOf(this.d.chain);
  }

  /**
   * The pincode, for the current owner only. The first retrieval is recorded on chain
   * (pinRetrieved) and awaited before the pin is decrypted; concurrent requests share that
   * one operation. `waitMs` bounds the wait for it.
   */
  async pincode(address: string, waitMs: number): Promise<string> {
    const id = checkAddress("address", address);
    const self = this.d.identity.self();
    const chain = this.chain;
    const r = this.live(id, address, self);
    this.requireOwner(r, self, address, "retrieve its pincode");
    if (r.encryptedPin === "") {
      throw new FailedPreconditionError(`the pincode of release ${address} is being renewed by the carrier; retry shortly`);
    }
    if (!r.pinRetrieved) {
      const digest = createHash("sha256").update(lower(r.encryptedPin)).digest("hex");
      const { operation } = chain.pipeline.submit({
        kind: "mark_pin_retrieved",
        release: id,
        ...chain.ledger.markPinRetrieved(id),
        idempotencyKey: `pin-retrieved:${id}:${digest}`,
      });
      const op = await chain.pipeline.settled(operation.id, waitMs);
      if (op.state === "failed") {
        throw new FailedPreconditionError(
          `the retrieval of the pincode of release ${address} could not be recorded on chain: ${op.failureReason ?? "the transaction failed"}`,
        );
      }
      if (op.state !== "confirmed") {
        throw new DeadlineExceededError(
          `the retrieval of the pincode of release ${address} is still being recorded on chain (operation ${op.id}); retry shortly`,
        );
      }
    }
    return chain.crypto.openPin(r.encryptedPin);
  }

  /**
   * PUT /releases/{address}/transfer: to a connection, not yet in the chain, by the current
   * owner while the pincode is not retrieved. The data key and the pincode are re-wrapped for
   * the new owner.
   */
  transfer(req: WriteInput & { to: string }): OperationRecord {
    const id = checkAddress("address", req.address);
    const to = checkAddress("address", req.to);
    const self = this.d.identity.self();
    const chain = this.chain;
    const prior = this.prior("transfer_release", id, req.idempotencyKey);
    if (prior) return prior;

    const r = this.live(id, req.address, self);
    this.requireOwner(r, self, req.address, "transfer it");
    if (r.pinRetrieved) {
      throw new FailedPreconditionError(`the pincode of release ${req.address} was already retrieved: it can no longer be transferred`);
    }
    if (to === lower(self.address)) throw new FailedPreconditionError(`release ${req.address} cannot be transferred to yourself`);
    if (r.owners.some((o) => lower(o) === to)) {
      throw new FailedPreconditionError(`${req.to} is already in the ownership chain of release ${req.address}`);
    }
    if (!this.d.store.connections.isConnected(to)) throw new FailedPreconditionError(`${req.to} is not one of your connections`);
    const pem = this.d.store.findParty(to)?.publicKey ?? "";
    if (pem === "") throw new FailedPreconditionError(`the public key of ${req.to} is not known yet; retry shortly`);
    if (r.encryptedPin === "") {
      throw new FailedPreconditionError(`the pincode of release ${req.address} is being renewed by the carrier; retry shortly`);
    }
    if (r.wrappedKey === "") throw new FailedPreconditionError(`the data key of release ${req.address} is not available yet; retry shortly`);

    const { crypto, ledger } = chain;
    const call = ledger.transfer(id, to, crypto.rewrapDataKey(r.wrappedKey, pem), crypto.sealPin(crypto.openPin(r.encryptedPin), pem));
    return this.submit("transfer_release", id, call, req.idempotencyKey);
  }

  /** PUT /releases/{address}/revoke: an earlier owner takes the release back. */
  revoke(req: WriteInput): OperationRecord {
    const id = checkAddress("address", req.address);
    const self = this.d.identity.self();
    const chain = this.chain;
    const prior = this.prior("revoke_release", id, req.idempotencyKey);
    if (prior) return prior;

    const r = this.live(id, req.address, self);
    const me = lower(self.address);
    if (ownerOf(r) === me || !r.owners.some((o) => lower(o) === me)) {
      throw new PermissionDeniedError(`only a party that transferred release ${req.address} can revoke it`);
    }
    return this.submit("revoke_release", id, chain.ledger.revoke(id), req.idempotencyKey);
  }

  /** PUT /releases/{address}/assign: a driver or, with type "barge", a barge. */
  assign(req: WriteInput & { assignee: AssigneeInput }): OperationRecord {
    const id = checkAddress("address", req.address);
    return this.assignValid(id, req, checkAssignee(req.assignee));
  }

  /** PUT /releases/{address}/assign_barge. */
  assignBarge(req: WriteInput & { barge: BargeInput }): OperationRecord {
    const id = checkAddress("address", req.address);
    return this.assignValid(id, req, checkBarge(req.barge));
  }

  /** PUT /releases/{address}/unassign. */
  unassign(req: WriteInput): OperationRecord {
    const id = checkAddress("address", req.address);
    const self = this.d.identity.self();
    const chain = this.chain;
    const prior = this.prior("unassign_release", id, req.idempotencyKey);
    if (prior) return prior;

    const r = this.live(id, req.address, self);
    this.requireOwner(r, self, req.address, "unassign it");
    if (r.assignment === null) throw new FailedPreconditionError(`release ${req.address} is not assigned`);
    return this.submit("unassign_release", id, chain.ledger.unassign(id), req.idempotencyKey);
  }

  /**
   * Seals the assignment for this organisation and, when the release has one, its terminal;
   * a driver is saved in the registry in the same SQLite transaction as the operation. A new
   * assignment replaces the previous one.
   */
  private assignValid(id: string, req: WriteInput, a: Assignment): OperationRecord {
    const self = this.d.identity.self();
    const chain = this.chain;
    const prior = this.prior("assign_release", id, req.idempotencyKey);
    if (prior) return prior;

    const r = this.live(id, req.address, self);
    this.requireOwner(r, self, req.address, "assign it");
    const recipients = [{ address: lower(self.address), publicKeyPem: chain.wallet.encryptionPublicKeyPem }];
    if (r.terminal !== null && lower(r.terminal) !== lower(self.address)) {
      const pem = this.d.store.findParty(r.terminal)?.publicKey ?? "";
      if (pem === "") throw new FailedPreconditionError(`the public key of the terminal of release ${req.address} is not known yet; retry shortly`);
      recipients.push({ address: lower(r.terminal), publicKeyPem: pem });
    }
    const call = chain.ledger.assign(id, chain.crypto.sealAssignment(a, recipients));
    return this.d.store.transaction(() => {
      if (a.type === "driver") {
        const { firstName, lastName, email, phone, identification } = a;
        this.d.store.drivers.saveDriver({ firstName, lastName, email, phone, identification }, Date.now());
      }
      return this.submit("assign_release", id, call, req.idempotencyKey);
    });
  }

  /** The release, when the caller may see it (else "not found") and it is not deleted. */
  private live(id: string, address: string, self: Organization): ReleaseRecord {
    const r = this.d.store.findRelease(id);
    if (!r || !isVisibleTo(r, self.address)) throw new NotFoundError(`release ${address} not found`);
    if (r.deleted) throw new FailedPreconditionError(`release ${address} was deleted by the carrier`);
    return r;
  }

  private requireOwner(r: ReleaseRecord, self: Organization, address: string, action: string): void {
    if (ownerOf(r) !== lower(self.address)) {
      throw new PermissionDeniedError(`only the current owner of release ${address} can ${action}`);
    }
  }

  /** A retried write: the operation already recorded under the caller's key, if any. */
  private prior(kind: string, release: string, key: string | undefined): OperationRecord | undefined {
    return priorOperation(this.d.operationByKey, key, kind, release);
  }

  private submit(kind: string, release: string, call: ContractCall, idempotencyKey: string | undefined): OperationRecord {
    return this.chain.pipeline.submit({ kind, release, ...call, idempotencyKey }).operation;
  }
}
