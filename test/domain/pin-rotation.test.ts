import { beforeEach, describe, expect, it } from "vitest";
import { AlreadyExistsError } from "../../src/domain/errors.js";
import { pinRotationListener, type CommittedEvents, type PinRotationDeps } from "../../src/domain/releases/pin-rotation.js";
import type { Party, ReleaseRecord } from "../../src/domain/releases/model.js";
import type { ReleaseCrypto } from "../../src/ports/release-crypto.js";
import type { ReleaseLedger } from "../../src/ports/release-ledger.js";
import { specReleaseRecord } from "../support/gateway.js";

const CARRIER = "0x00000000000000000000000000000000000000c1";
const OWNER = "0x00000000000000000000000000000000000000f1";
const TERMINAL = "0x00000000000000000000000000000000000000a1";
const ID = "0x00000000000000000000000000000000000000e1";
const TX = `0x${"ab".repeat(32)}`;

/** Sealing as readable text, never the same twice (like RSA-OAEP): `pem|pin|n`. */
let sealed = 0;
const crypto = {
  sealPin: (pin: string, pem: string) => `${pem}|${pin}|${++sealed}`,
  openPin: (s: string) => s.split("|")[1] ?? "",
  newPin: () => "NEWPIN",
} as unknown as ReleaseCrypto;
const ledger = new Proxy({}, { get: (_t, fn) => (...args: unknown[]) => ({ to: "registry", data: JSON.stringify([fn, ...args]) }) }) as ReleaseLedger;

interface Submitted {
  kind: string;
  release?: string;
  data: string;
  idempotencyKey?: string;
}

let releases: Map<string, ReleaseRecord>;
let pins: Map<string, string>;
let submitted: Submitted[];
let logged: string[];
let deps: PinRotationDeps;

beforeEach(() => {
  releases = new Map();
  pins = new Map([[ID, crypto.sealPin("135790", "carrier-pem")]]);
  submitted = [];
  logged = [];
  const parties = new Map<string, Party>([
    [OWNER, { address: OWNER, name: "Owner", vat: "BE1", role: "forwarder", publicKey: "owner-pem" }],
    [TERMINAL, { address: TERMINAL, name: "Terminal", vat: "BE2", role: "terminal", publicKey: "terminal-pem" }],
  ]);
  const log = (level: string) => (obj: unknown, msg?: string) => void logged.push(`${level}: ${msg ?? String(obj)}`);
  deps = {
    store: {
      findRelease: (id) => releases.get(id),
      findParty: (a) => parties.get(a),
      carrierPins: { findPin: (id) => pins.get(id), savePin: (id, pin) => void pins.set(id, pin) },
    },
    self: { address: CARRIER, encryptionPublicKeyPem: "carrier-pem" },
    // Like the operation store: the same key with other bytes is refused.
    pipeline: {
      submit(req) {
        const prior = submitted.find((s) => s.idempotencyKey === req.idempotencyKey);
        if (prior && prior.data !== req.data) throw new AlreadyExistsError(`Idempotency-Key ${req.idempotencyKey} was already used`);
        if (!prior) submitted.push(req);
        return { operation: {} as never, created: !prior };
      },
    },
    ledger,
    crypto,
    log: { info: log("info"), warn: log("warn"), error: log("error"), debug: log("debug") } as unknown as PinRotationDeps["log"],
  };
});

/** A release this carrier created, revoked back to OWNER: no pincode wrapped for anyone. */
function revoked(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const r = specReleaseRecord({ address: ID, creator: CARRIER, owners: [CARRIER, OWNER], terminal: TERMINAL, encryptedPin: "", pinRetrieved: true, ...overrides });
  releases.set(ID, r);
  return r;
}

const revokeEvent = (logIndex = 3, subject = ID) => ({ contract: "releaseRegistry", name: "ReleaseRevoked", subject, txHash: TX, logIndex, args: "{}" });
const batch = (...events: CommittedEvents["events"]): CommittedEvents => ({ events });
const call = (s: Submitted) => JSON.parse(s.data) as unknown[];

describe("the carrier renews the pincode after a revoke", () => {
  it("retrieved: a new pincode for the owner (rotated) and the terminal, and the carrier's copy", () => {
    revoked();
    pinRotationListener(deps)(batch(revokeEvent()));
    expect(submitted.map((s) => [s.kind, s.release, s.idempotencyKey])).toEqual([
      ["renew_pin", ID, `pin-renewal:${TX}:3`],
      ["set_terminal", ID, `pin-renewal:${TX}:3:terminal`],
    ]);
    const [setPin, setTerminal] = submitted.map(call);
    expect(setPin).toEqual(["setPin", ID, expect.stringMatching(/^owner-pem\|NEWPIN\|/), true]);
    expect(setTerminal).toEqual(["setTerminal", ID, TERMINAL, expect.stringMatching(/^terminal-pem\|NEWPIN\|/)]);
    expect(crypto.openPin(pins.get(ID)!)).toBe("NEWPIN");
    expect(pins.get(ID)!.startsWith("carrier-pem|")).toBe(true);
  });

  it("not retrieved: the same pincode, re-wrapped for the owner; the terminal keeps its copy", () => {
    revoked({ pinRetrieved: false });
    const before = pins.get(ID);
    pinRotationListener(deps)(batch(revokeEvent()));
    expect(submitted.map(call)).toEqual([["setPin", ID, expect.stringMatching(/^owner-pem\|135790\|/), false]]);
    expect(pins.get(ID)).toBe(before);
  });

  it("revoked back to the carrier itself: sealed with its own key", () => {
    revoked({ owners: [CARRIER], pinRetrieved: false });
    pinRotationListener(deps)(batch(revokeEvent()));
    expect(submitted.map(call)).toEqual([["setPin", ID, expect.stringMatching(/^carrier-pem\|135790\|/), false]]);
  });

  it("a replayed event submits nothing again and keeps the carrier's copy", () => {
    revoked();
    const listener = pinRotationListener(deps);
    listener(batch(revokeEvent()));
    const copy = pins.get(ID);
    listener(batch(revokeEvent()));
    expect(submitted).toHaveLength(2);
    expect(pins.get(ID)).toBe(copy);
  });

  it("two revokes of one release in a range: one renewal, keyed by the last", () => {
    revoked();
    pinRotationListener(deps)(batch(revokeEvent(1), revokeEvent(7)));
    expect(submitted.map((s) => s.idempotencyKey)).toEqual([`pin-renewal:${TX}:7`, `pin-renewal:${TX}:7:terminal`]);
  });

  it("no copy of the pincode: a new one is issued, even if it was not retrieved", () => {
    revoked({ pinRetrieved: false });
    pins.clear();
    pinRotationListener(deps)(batch(revokeEvent()));
    expect(submitted.map((s) => call(s)[0])).toEqual(["setPin", "setTerminal"]);
    expect(call(submitted[0]!)[3]).toBe(true);
    expect(crypto.openPin(pins.get(ID)!)).toBe("NEWPIN");
  });

  it("does nothing for releases of other carriers, deleted ones, pincodes already set, and other events", () => {
    revoked({ creator: OWNER });
    pinRotationListener(deps)(batch(revokeEvent()));
    revoked({ deleted: true });
    pinRotationListener(deps)(batch(revokeEvent()));
    revoked({ encryptedPin: "owner-pem|135790|1" });
    pinRotationListener(deps)(batch(revokeEvent()));
    revoked();
    pinRotationListener(deps)(batch({ ...revokeEvent(), name: "ReleaseTransferred" }, { ...revokeEvent(), contract: "connections" }));
    expect(submitted).toEqual([]);
  });

  it("a release the projection did not cache, or an owner without a known key: skipped with a log, never thrown", () => {
    pinRotationListener(deps)(batch(revokeEvent()));
    expect(logged.some((l) => l.startsWith("warn: a revoked release is not in the cache"))).toBe(true);
    revoked({ owners: [CARRIER, "0x00000000000000000000000000000000000000f9"] });
    expect(() => pinRotationListener(deps)(batch(revokeEvent()))).not.toThrow();
    expect(logged.some((l) => l.startsWith("error: the pincode of a revoked release cannot be renewed"))).toBe(true);
    expect(submitted).toEqual([]);
  });
});
