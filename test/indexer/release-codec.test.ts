import { describe, expect, it } from "vitest";
import {
  ReleaseCodecError,
  decodeGreenLights,
  decodeReleaseData,
  encodeGreenLights,
  encodeReleaseData,
  openRelease,
  pinFromHex,
  pinToHex,
  sealReleaseFor,
} from "../../src/adapters/chain/evm/release-codec.js";
import { initialGreenLights } from "../../src/domain/releases/greenlights.js";
import type { ReleaseData } from "../../src/domain/releases/model.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { specGreenLights, specReleaseData } from "../support/gateway.js";

// The spec's example, with one date absent to show null survives the round trip.
const data: ReleaseData = { ...specReleaseData(), container: { ...specReleaseData().container, validUntil: null } };
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("release data", () => {
  it("round-trips, dates as ISO strings", () => {
    const bytes = encodeReleaseData(data);
    const json = JSON.parse(new TextDecoder().decode(bytes));
    expect(json.container.validFrom).toBe("2017-01-05T14:00:00.000Z");
    expect(json.container.validUntil).toBeNull();
    expect(decodeReleaseData(bytes)).toEqual(data);
    // ethers hands bytes over as hex
    expect(decodeReleaseData("0x" + Buffer.from(bytes).toString("hex"))).toEqual(data);
  });

  it("fills absent text fields with '' and rejects a wrong shape clearly", () => {
    const partial = { billOfLading: { blNumber: "BL1" }, container: { containerNumber: "C1" } };
    const decoded = decodeReleaseData(utf8(JSON.stringify(partial)));
    expect(decoded.container.pickupLoCode).toBe("");
    expect(decoded.container.validFrom).toBeNull();
    expect(() => decodeReleaseData(utf8("{"))).toThrowError(/release data is not valid JSON/);
    expect(() => decodeReleaseData(utf8(JSON.stringify({ billOfLading: {} })))).toThrowError(ReleaseCodecError);
    expect(() => decodeReleaseData(utf8(JSON.stringify({ billOfLading: {} })))).toThrowError(/billOfLading\.blNumber/);
    const badDate = { ...partial, container: { containerNumber: "C1", validFrom: "yesterday" } };
    expect(() => decodeReleaseData(utf8(JSON.stringify(badDate)))).toThrowError(/container\.validFrom: must be an ISO 8601/);
  });
});

describe("green lights", () => {
  it("empty bytes are the initial lights", () => {
    expect(decodeGreenLights(new Uint8Array())).toEqual(initialGreenLights());
    expect(decodeGreenLights("0x")).toEqual(initialGreenLights());
  });

  it("round-trips, and colours and total come from the values, never from the bytes", () => {
    const lights = specGreenLights();
    expect(lights.total).toBe("green");
    expect(decodeGreenLights(encodeGreenLights(lights))).toEqual(lights);

    const forged = { source: "x", total: "green", events: { customs: { value: "notreleased", color: "green", updatedAt: "" } } };
    const decoded = decodeGreenLights(utf8(JSON.stringify(forged)));
    expect(decoded.events.customs.color).toBe("red");
    expect(decoded.total).toBe("red");
    expect(decoded.events.pickuplight.value).toBe("unknown");
    expect(() => decodeGreenLights(utf8(JSON.stringify({ events: { customs: { value: 3 } } })))).toThrowError(
      /green lights are malformed: events\.customs\.value/,
    );
  });
});

describe("sealing", () => {
  it("each party opens the data with its own wrapped key; others cannot", () => {
    const a = createEphemeralWallet();
    const b = createEphemeralWallet();
    const c = createEphemeralWallet();
    const sealed = sealReleaseFor(data, [a.encryptionPublicKeyPem, b.encryptionPublicKeyPem]);
    expect(sealed.wrappedKeys).toHaveLength(2);
    expect(openRelease(sealed.sealedData, sealed.wrappedKeys[0]!, a)).toEqual(data);
    expect(openRelease("0x" + Buffer.from(sealed.sealedData).toString("hex"), sealed.wrappedKeys[1]!, b)).toEqual(data);
    expect(() => openRelease(sealed.sealedData, sealed.wrappedKeys[0]!, c)).toThrowError(/cannot unwrap key/);
    expect(() => openRelease(sealed.sealedData, "0x", a)).toThrowError(/no data key is wrapped/);
  });

  it("the pincode is lower-case hex without 0x", () => {
    expect(pinToHex("0xABcd01")).toBe("abcd01");
    expect(pinToHex(new Uint8Array([0, 255]))).toBe("00ff");
    expect(pinToHex("0x")).toBe("");
    expect(pinFromHex("abcd01")).toEqual(new Uint8Array([0xab, 0xcd, 0x01]));
  });
});
