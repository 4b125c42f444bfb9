import type { Logger } from "pino";
import type { WritePipeline } from "../operations/pipeline.js";
import type { ReleaseCrypto } from "../../ports/release-crypto.js";
import type { ContractCall, ReleaseLedger } from "../../ports/release-ledger.js";
import type { Store } from "../../ports/store.js";
import { AlreadyExistsError } from "../errors.js";
import type { ReleaseRecord } from "./model.js";

/** What the projection tells its listeners about a committed range: the events it recorded. */
export interface CommittedEvents {
  events: readonly { contract: string; name: string; subject: string | null; txHash: string; logIndex: number }[];
}

export interface PinRotationDeps {
  /** The same SQLite connection the projection commits on. */
  store: Pick<Store, "findRelease" | "findParty" | "carrierPins">;
  /** This organisation's address and encryption key. */
  self: { address: string; encryptionPublicKeyPem: string };
  pipeline: Pick<WritePipeline, "submit">;
  ledger: ReleaseLedger;
  crypto: ReleaseCrypto;
  log: Pick<Logger, "info" | "warn" | "error" | "debug">;
}

const lower = (s: string) => s.toLowerCase();

/**
 * The carrier's side of a revoke (the specification's table of updatable fields: the pin "is
 * updated … when the release is revoked while the pin was already retrieved"). A revoke clears
 * the pincode of the release; for each release this organisation created:
 *
 * - the pincode was retrieved: a new pincode, sealed for the current owner (`setPin` with
 *   `rotated`, which resets pinRetrieved), for the terminal, and kept as the carrier's copy;
 * - otherwise: the same pincode, re-wrapped for the current owner.
 *
 * The listener runs inside the projection's transaction (`onCommitted(…, { inTransaction:
 * true })`), so the operations are recorded atomically with the indexed event: never lost on a
 * crash, and, keyed by the event, never submitted twice when a range is replayed. Synchronous,
 * no I/O but SQLite.
 */
export function pinRotationListener(d: PinRotationDeps): (batch: CommittedEvents) => void {
  const self = lower(d.self.address);
  return (batch) => {
    // The last revoke of each release in the range: the record is as of the range's end.
    const revokes = new Map<string, { txHash: string; logIndex: number }>();
    for (const e of batch.events) {
      if (e.contract === "releaseRegistry" && e.name === "ReleaseRevoked" && e.subject) revokes.set(lower(e.subject), e);
    }
    for (const [id, event] of revokes) {
      const r = d.store.findRelease(id);
      if (!r) {
        d.log.warn({ release: id, tx: event.txHash }, "a revoked release is not in the cache; its pincode is not renewed");
        continue;
      }
      if (lower(r.creator) !== self) continue;
      if (r.deleted) continue;
      if (r.encryptedPin !== "") {
        d.log.debug({ release: id }, "the pincode of the revoked release is already set; nothing to renew");
        continue;
      }
      renew(d, r, `pin-renewal:${event.txHash}:${event.logIndex}`);
    }
  };
}

function renew(d: PinRotationDeps, r: ReleaseRecord, key: string): void {
  const id = lower(r.address);
  let plan: { pin: string; rotated: boolean; calls: { kind: string; call: ContractCall; key: string }[] };
  try {
    // Only reads and crypto: what fails here fails again on a retry of the range.
    plan = planRenewal(d, r, key);
  } catch (err) {
    d.log.error({ err, release: id }, "the pincode of a revoked release cannot be renewed");
    return;
  }
  const [first, ...rest] = plan.calls;
  if (!first) return;
  // Submitted once per event: a replayed range finds the first operation under its key.
  try {
    if (!d.pipeline.submit({ kind: first.kind, release: id, ...first.call, idempotencyKey: first.key }).created) return;
  } catch (err) {
    // The same key with other bytes: the renewal of this event was recorded before.
    if (err instanceof AlreadyExistsError) return;
    throw err;
  }
  for (const c of rest) d.pipeline.submit({ kind: c.kind, release: id, ...c.call, idempotencyKey: c.key });
  if (plan.rotated) d.store.carrierPins.savePin(id, d.crypto.sealPin(plan.pin, d.self.encryptionPublicKeyPem), Date.now());
  d.log.info({ release: id, rotated: plan.rotated }, plan.rotated ? "revoked after the pincode was retrieved: a new pincode is issued" : "revoked: the pincode is re-wrapped for the current owner");
}

function planRenewal(d: PinRotationDeps, r: ReleaseRecord, key: string) {
  const id = lower(r.address);
  const owner = lower(r.owners[r.owners.length - 1] ?? r.creator);
  const ownerPem = pemOf(d, owner);
  let old: string | null = null;
  const own = d.store.carrierPins.findPin(id);
  if (own) {
    try {
      old = d.crypto.openPin(own);
    } catch (err) {
      d.log.warn({ err, release: id }, "the carrier's copy of the pincode cannot be opened; a new pincode is issued");
    }
  } else {
    d.log.warn({ release: id }, "this gateway holds no copy of the pincode; a new pincode is issued");
  }
  const rotated = r.pinRetrieved || old === null;
  const pin = rotated ? d.crypto.newPin() : (old as string);
  const calls = [{ kind: "renew_pin", call: d.ledger.setPin(id, d.crypto.sealPin(pin, ownerPem), rotated), key }];
  if (rotated && r.terminal !== null) {
    const terminal = lower(r.terminal);
    calls.push({ kind: "set_terminal", call: d.ledger.setTerminal(id, terminal, d.crypto.sealPin(pin, pemOf(d, terminal))), key: `${key}:terminal` });
  }
  return { pin, rotated, calls };
}

function pemOf(d: PinRotationDeps, party: string): string {
  if (party === lower(d.self.address)) return d.self.encryptionPublicKeyPem;
  const pem = d.store.findParty(party)?.publicKey ?? "";
  if (pem === "") throw new Error(`the public key of ${party} is not known`);
  return pem;
}
