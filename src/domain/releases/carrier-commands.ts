import { createHash, randomBytes } from "node:crypto";
import type { ChainContext } from "../../context.js";
import type { Identity } from "../../ports/identity.js";
import type { OperationRecord } from "../../ports/operations.js";
import type { ContractCall } from "../../ports/release-ledger.js";
import type { Store } from "../../ports/store.js";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from "../errors.js";
import { checkAddress } from "../validation.js";
import type { OrgRole, Organization, ReleaseRecord } from "./model.js";
import { checkPincode, checkReleaseData, keepFixedFields, type ReleaseDataInput } from "./release-data-validation.js";
import { isVisibleTo } from "./view.js";

/** What the role commands (carrier, terminal) need, with the parts of the store they use. */
export interface RoleCommandsDeps<S extends Partial<Store>> {
  store: S;
  identity: Identity;
  chain?: ChainContext;
  /** The operation recorded earlier under a caller's idempotency key, if any. */
  operationByKey?(key: string): OperationRecord | undefined;
}

export type CarrierCommandsDeps = RoleCommandsDeps<Pick<Store, "findRelease" | "findParty" | "carrierPins" | "transaction">>;

/** A write on one release, with the caller's idempotency key when it gave one. */
export interface WriteInput {
  address: string;
  idempotencyKey?: string;
}

const lower = (s: string) => s.toLowerCase();
const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

/** This gateway's chain side, or "unavailable" when it runs without one. */
export function chainOf(chain: ChainContext | undefined): ChainContext {
  if (!chain) throw new UnavailableError("this gateway is not connected to a chain");
  return chain;
}

/** The calling organisation, refused unless the registry gives it one of `roles`. */
export function requireRole(store: Pick<Store, "findParty">, identity: Identity, roles: OrgRole[], action: string): Organization {
  const self = identity.self();
  const role = store.findParty(self.address)?.role ?? "";
  if (!roles.includes(role)) {
    const wanted = roles.length === 1 ? `a ${roles[0]}` : `a ${roles.slice(0, -1).join(", ")} or ${roles[roles.length - 1]}`;
    throw new PermissionDeniedError(`only ${wanted} can ${action}; this organisation is registered as ${role ? `a ${role}` : "no role"}`);
  }
  return self;
}

/**
 * A retried write: the operation recorded under the caller's key when it is the same kind of
 * write (on the same release, when `release` is given); a key used for anything else is refused.
 */
export function priorOperation(
  lookup: ((key: string) => OperationRecord | undefined) | undefined,
  key: string | undefined,
  kind: string,
  release?: string,
): OperationRecord | undefined {
  if (!key || !lookup) return undefined;
  const op = lookup(key);
  if (!op) return undefined;
  if (op.kind !== kind || (release !== undefined && op.release !== release)) {
    throw new AlreadyExistsError(`Idempotency-Key ${key} was already used for a different request (operation ${op.id})`);
  }
  return op;
}

/** A key derived from the caller's, for a second operation of the same request. */
const subKey = (key: string | undefined, part: string) => (key ? `${key}:${part}` : undefined);

/**
 * The carrier's writes: releases are born here. Every rule is checked on the local cache
 * before anything is sent; the data is sealed for every party that must read it and the
 * pincode for the owner and the terminal, with the wallet's crypto; the calls are built with
 * the ledger and recorded in the write pipeline.
 */
export class CarrierCommands {
  constructor(private readonly d: CarrierCommandsDeps) {}

  /**
   * CreateRelease: the carrier becomes creator and first owner. With a terminal, the data key
   * is wrapped for it too, by an update sent right after the creation.
   */
  create(req: WriteInput & { releaseData?: ReleaseDataInput; pincode: string; terminal: string }): { address: string; operation: OperationRecord } {
    const self = requireRole(this.d.store, this.d.identity, ["carrier"], "create a release");
    const chain = chainOf(this.d.chain);
    const prior = priorOperation(this.d.operationByKey, req.idempotencyKey, "create_release");
    if (prior?.release) return { address: prior.release, operation: prior };

    const data = checkReleaseData(req.releaseData);
    const pin = checkPincode("pincode", req.pincode);
    const terminal = req.terminal === "" ? null : this.terminal(req.terminal);
    const id = req.address === "" ? this.newId(self, req.idempotencyKey) : checkAddress("address", req.address);
    if (id === ZERO_ADDRESS) throw new InvalidArgumentError("address", "must not be the zero address");
    if (this.d.store.findRelease(id)) throw new AlreadyExistsError(`a release ${req.address || id} already exists`);

    const { crypto, ledger, wallet } = chain;
    const pems = [wallet.encryptionPublicKeyPem, ...(terminal ? [terminal.pem] : [])];
    const sealed = crypto.sealData(data, pems);
    const pinForSelf = crypto.sealPin(pin, wallet.encryptionPublicKeyPem);
    const pinForTerminal = terminal ? crypto.sealPin(pin, terminal.pem) : "0x";
    const create = ledger.create(id, terminal?.address ?? null, sealed.sealedData, sealed.wrappedKeys[0] ?? "", pinForSelf, pinForTerminal);
    const operation = this.d.store.transaction(() => {
      this.d.store.carrierPins.savePin(id, pinForSelf, Date.now());
      const op = this.submit("create_release", id, create, req.idempotencyKey);
      if (terminal) {
        const update = ledger.update(id, sealed.sealedData, [terminal.address], [sealed.wrappedKeys[1] ?? ""]);
        this.submit("update_release", id, update, subKey(req.idempotencyKey, "terminal-key"));
      }
      return op;
    });
    return { address: id, operation };
  }

  /**
   * UpdateRelease: the data as a whole, re-sealed for every party that reads it (the owners
   * and the terminal); a new terminal first gets the pincode and then the data key.
   */
  update(req: WriteInput & { releaseData?: ReleaseDataInput; terminal: string }): OperationRecord {
    const id = checkAddress("address", req.address);
    const self = requireRole(this.d.store, this.d.identity, ["carrier"], "update a release");
    const chain = chainOf(this.d.chain);
    const prior = priorOperation(this.d.operationByKey, req.idempotencyKey, "update_release", id);
    if (prior) return prior;

    const r = this.own(id, req.address, self, "update it");
    const data = keepFixedFields(checkReleaseData(req.releaseData), r.data);
    const changed = req.terminal === "" ? null : this.terminal(req.terminal);
    const newTerminal = changed && changed.address !== r.terminal ? changed : null;
    const terminal = newTerminal?.address ?? r.terminal;

    const parties = [...new Set([...r.owners.map(lower), ...(terminal ? [terminal] : [])])];
    const pems = parties.map((p) => this.pemOf(p, req.address));
    const { crypto, ledger } = chain;
    const setTerminal = newTerminal ? ledger.setTerminal(id, newTerminal.address, crypto.sealPin(this.pinOf(r, req.address), newTerminal.pem)) : null;
    const sealed = crypto.sealData(data, pems);
    const update = ledger.update(id, sealed.sealedData, parties, sealed.wrappedKeys);
    return this.d.store.transaction(() => {
      // The contract accepts a wrapped key only for a party: the terminal is set first.
      if (setTerminal) this.submit("set_terminal", id, setTerminal, subKey(req.idempotencyKey, "terminal"));
      return this.submit("update_release", id, update, req.idempotencyKey);
    });
  }

  /** BlockRelease: the container cannot be picked up until unblocked. */
  block(req: WriteInput): OperationRecord {
    return this.simple(req, "block_release", "block", (r, address) => {
      if (r.blocked) throw new FailedPreconditionError(`release ${address} is already blocked`);
      return chainOf(this.d.chain).ledger.block(r.address);
    });
  }

  /** UnblockRelease: lifts a block. */
  unblock(req: WriteInput): OperationRecord {
    return this.simple(req, "unblock_release", "unblock", (r, address) => {
      if (!r.blocked) throw new FailedPreconditionError(`release ${address} is not blocked`);
      return chainOf(this.d.chain).ledger.unblock(r.address);
    });
  }

  /** DeleteRelease: a final state; every later write is refused. */
  remove(req: WriteInput): OperationRecord {
    return this.simple(req, "delete_release", "delete", (r) => chainOf(this.d.chain).ledger.remove(r.address));
  }

  private simple(req: WriteInput, kind: string, verb: string, build: (r: ReleaseRecord, address: string) => ContractCall): OperationRecord {
    const id = checkAddress("address", req.address);
    const self = requireRole(this.d.store, this.d.identity, ["carrier"], `${verb} a release`);
    chainOf(this.d.chain);
    const prior = priorOperation(this.d.operationByKey, req.idempotencyKey, kind, id);
    if (prior) return prior;
    const r = this.own(id, req.address, self, `${verb} it`);
    return this.submit(kind, id, build(r, req.address), req.idempotencyKey);
  }

  /** The release when this organisation created it and it is not deleted. */
  private own(id: string, address: string, self: Organization, action: string): ReleaseRecord {
    const r = this.d.store.findRelease(id);
    if (!r || !isVisibleTo(r, self.address)) throw new NotFoundError(`release ${address} not found`);
    if (lower(r.creator) !== lower(self.address)) {
      throw new PermissionDeniedError(`only the carrier that created release ${address} can ${action}`);
    }
    if (r.deleted) throw new FailedPreconditionError(`release ${address} was deleted by the carrier`);
    return r;
  }

  /** A registered terminal organisation, with the key to seal for it. */
  private terminal(value: string): { address: string; pem: string } {
    const address = checkAddress("terminal", value);
    const party = this.d.store.findParty(address);
    if (!party || party.role !== "terminal") {
      throw new InvalidArgumentError("terminal", `${value} is not a registered terminal organisation`);
    }
    if (party.publicKey === "") throw new FailedPreconditionError(`the public key of terminal ${value} is not known yet; retry shortly`);
    return { address, pem: party.publicKey };
  }

  private pemOf(party: string, address: string): string {
    const chain = chainOf(this.d.chain);
    if (party === lower(chain.wallet.address)) return chain.wallet.encryptionPublicKeyPem;
    const pem = this.d.store.findParty(party)?.publicKey ?? "";
    if (pem === "") throw new FailedPreconditionError(`the public key of ${party}, a party of release ${address}, is not known yet; retry shortly`);
    return pem;
  }

  /** The pincode in clear: the carrier's own copy, or the owner's when the carrier owns it. */
  private pinOf(r: ReleaseRecord, address: string): string {
    const crypto = chainOf(this.d.chain).crypto;
    const own = this.d.store.carrierPins.findPin(r.address);
    if (own) return crypto.openPin(own);
    const owner = r.owners[r.owners.length - 1] ?? r.creator;
    if (lower(owner) === lower(chainOf(this.d.chain).wallet.address) && r.encryptedPin !== "") return crypto.openPin(r.encryptedPin);
    throw new FailedPreconditionError(`this gateway does not hold the pincode of release ${address}, so it cannot seal it for a new terminal`);
  }

  /**
   * A new release id: with an idempotency key, the same for every retry of the request (the
   * first 20 bytes of SHA-256 over this organisation and the key); otherwise random.
   */
  private newId(self: Organization, key: string | undefined): string {
    if (!key) return `0x${randomBytes(20).toString("hex")}`;
    return `0x${createHash("sha256").update(`scr-release:${lower(self.address)}:${key}`).digest("hex").slice(0, 40)}`;
  }

  private submit(kind: string, release: string, call: ContractCall, idempotencyKey: string | undefined): OperationRecord {
    return chainOf(this.d.chain).pipeline.submit({ kind, release, ...call, idempotencyKey }).operation;
  }
}
