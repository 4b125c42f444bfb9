import { createHash, timingSafeEqual } from "node:crypto";
import type { OperationRecord } from "../../ports/operations.js";
import type { Store } from "../../ports/store.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from "../errors.js";
import { checkAddress, checkText } from "../validation.js";
import { chainOf, priorOperation, requireRole, type RoleCommandsDeps, type WriteInput } from "./carrier-commands.js";
import { LIGHT_COLORS, applyLights, isKnownValue, isLightName } from "./greenlights.js";
import { LIGHT_NAMES, type Assignment, type LightName, type Organization, type ReleaseRecord } from "./model.js";
import { isVisibleTo } from "./view.js";

export type TerminalCommandsDeps = RoleCommandsDeps<Pick<Store, "findRelease" | "findParty">>;

export interface PickupCheck {
  valid: boolean;
  /** One sentence per failed check; empty when valid. */
  reasons: string[];
  /** The assignment the identification was checked against, when there is one. */
  assignee: Assignment | null;
}

const lower = (s: string) => s.toLowerCase();

/** Equality whose time does not depend on where the two texts differ (nor on their lengths). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The terminal's and the port system's work on releases: the check at the gate, the gate-out
 * and the green lights. Rules are checked on the local cache before anything is sent.
 */
export class TerminalCommands {
  constructor(private readonly d: TerminalCommandsDeps) {}

  /**
   * VerifyPickup: the presented pincode and the driver's or barge's identification against
   * the release's pincode (as sealed for the terminal) and assignment. Nothing is written.
   */
  verifyPickup(req: { address: string; pincode: string; identification: string }): PickupCheck {
    const id = checkAddress("address", req.address);
    const self = requireRole(this.d.store, this.d.identity, ["terminal"], "verify a pickup");
    const crypto = chainOf(this.d.chain).crypto;
    checkText("pincode", req.pincode, { required: true });
    checkText("identification", req.identification);
    const r = this.ownTerminal(id, req.address, self, "verify a pickup");

    const reasons: string[] = [];
    let pin: string | null = null;
    if (r.encryptedPin !== "") {
      try {
        pin = crypto.openPin(r.encryptedPin);
      } catch {
        pin = null;
      }
    }
    // Compared even when there is no pin to compare with, so the answer takes as long.
    const pinMatches = sameSecret(req.pincode, pin ?? "") && pin !== null;
    if (pin === null) reasons.push("The release holds no pincode this terminal can read.");
    else if (!pinMatches) reasons.push("The pincode does not match the release's pincode.");

    const a = r.assignment;
    const presented = req.identification.trim();
    if (a === null) reasons.push("The release is not assigned to a driver or a barge.");
    else if (presented === "" || !sameSecret(presented, a.identification.trim())) {
      reasons.push(`The identification does not match the assigned ${a.type}'s.`);
    }
    if (r.deleted) reasons.push("The release was deleted by the carrier.");
    if (r.blocked) reasons.push("The release is blocked by the carrier.");
    if (r.gateOut !== null) reasons.push(`The container already left the terminal at ${r.gateOut.toISOString()}.`);
    return { valid: reasons.length === 0, reasons, assignee: a };
  }

  /** RecordGateOut: when the container left (now when not given), or 0 to cancel. */
  recordGateOut(req: WriteInput & { gateOutAt: Date | null; cancel: boolean }): OperationRecord {
    const id = checkAddress("address", req.address);
    const self = requireRole(this.d.store, this.d.identity, ["terminal"], "record a gate-out");
    const chain = chainOf(this.d.chain);
    const prior = priorOperation(this.d.operationByKey, req.idempotencyKey, "record_gate_out", id);
    if (prior) return prior;

    let seconds = 0;
    if (!req.cancel) {
      const at = req.gateOutAt ?? new Date();
      seconds = Math.floor(at.getTime() / 1000);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new InvalidArgumentError("gate_out_at", "must be a date-time after 1970-01-01T00:00:00Z");
      }
    }
    const r = this.ownTerminal(id, req.address, self, "record its gate-out");
    if (r.deleted) throw new FailedPreconditionError(`release ${req.address} was deleted by the carrier`);
    if (req.cancel && r.gateOut === null) throw new FailedPreconditionError(`release ${req.address} has no gate-out to cancel`);
    const call = chain.ledger.recordGateOut(id, seconds);
    return chain.pipeline.submit({ kind: "record_gate_out", release: id, ...call, idempotencyKey: req.idempotencyKey }).operation;
  }

  /**
   * UpdateGreenLights: the named lights take the new values, the others keep theirs (from the
   * cache, or, for a port system that is not a party of the release, as published on chain).
   * Colours and the total are never sent: every reader derives them from the values.
   */
  async updateGreenLights(req: WriteInput & { source: string; events: Record<string, { value: string; updatedAt: string }> }): Promise<OperationRecord> {
    const id = checkAddress("address", req.address);
    requireRole(this.d.store, this.d.identity, ["terminal", "portsystem"], "publish green lights");
    const chain = chainOf(this.d.chain);
    const prior = priorOperation(this.d.operationByKey, req.idempotencyKey, "set_green_lights", id);
    if (prior) return prior;

    const source = checkText("source", req.source, { required: true });
    const updates = this.lightUpdates(req.events);
    const r = this.d.store.findRelease(id);
    if (r?.deleted) throw new FailedPreconditionError(`release ${req.address} was deleted by the carrier`);
    const current = r ? r.greenLights : await chain.reader.greenLights(id);
    if (!current) throw new NotFoundError(`release ${req.address} not found`);
    const lights = applyLights(current, updates, source);
    const call = chain.ledger.setGreenLights(id, chain.crypto.encodeGreenLights(lights));
    return chain.pipeline.submit({ kind: "set_green_lights", release: id, ...call, idempotencyKey: req.idempotencyKey }).operation;
  }

  private lightUpdates(events: Record<string, { value: string; updatedAt: string }>): Partial<Record<LightName, { value: string; updatedAt: string }>> {
    const names = Object.keys(events);
    if (names.length === 0) throw new InvalidArgumentError("events", "must name at least one light");
    const out: Partial<Record<LightName, { value: string; updatedAt: string }>> = {};
    for (const name of names) {
      if (!isLightName(name)) {
        throw new InvalidArgumentError(`events.${name}`, `is not a green light (${LIGHT_NAMES.join(", ")})`);
      }
      const { value, updatedAt } = events[name] ?? { value: "", updatedAt: "" };
      checkText(`events.${name}.value`, value, { required: true });
      if (!isKnownValue(name, value)) {
        const known = Object.keys(LIGHT_COLORS[name]).join(", ");
        throw new InvalidArgumentError(`events.${name}.value`, `${JSON.stringify(value)} is not a value of the ${name} light (${known})`);
      }
      out[name] = { value, updatedAt: checkText(`events.${name}.updatedAt`, updatedAt) };
    }
    return out;
  }

  /** The release when this organisation is its terminal: "not found" when not visible at all. */
  private ownTerminal(id: string, address: string, self: Organization, action: string): ReleaseRecord {
    const r = this.d.store.findRelease(id);
    if (!r || !isVisibleTo(r, self.address)) throw new NotFoundError(`release ${address} not found`);
    if (r.terminal === null || lower(r.terminal) !== lower(self.address)) {
      throw new PermissionDeniedError(`only the terminal of release ${address} can ${action}`);
    }
    return r;
  }
}
