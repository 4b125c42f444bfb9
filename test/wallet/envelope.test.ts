import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  EnvelopeError,
  generateDataKey,
  open,
  openWith,
  seal,
  sealFor,
  wrapKeyFor,
} from "../../src/adapters/wallet/envelope.js";
import { createKeystore, unlockKeystore } from "../../src/adapters/wallet/keystore.js";
import type { Wallet } from "../../src/ports/wallet.js";

const TEST_SCRYPT = { N: 2 ** 12 };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let a: Wallet;
let b: Wallet;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "scr-envelope-"));
  createKeystore(join(dir, "a.json"), "pass-a", { scrypt: TEST_SCRYPT });
  createKeystore(join(dir, "b.json"), "pass-b", { scrypt: TEST_SCRYPT });
  a = unlockKeystore(join(dir, "a.json"), "pass-a");
  b = unlockKeystore(join(dir, "b.json"), "pass-b");
});

describe("seal / open (AES-256-GCM)", () => {
  it("round-trips, with the documented layout and a fresh IV each time", () => {
    const key = generateDataKey();
    expect(key).toHaveLength(32);
    const msg = bytes("release data: container MSCU1234565, pin 8765");
    const s1 = seal(msg, key);
    const s2 = seal(msg, key);
    expect(s1[0]).toBe(1);
    expect(s1).toHaveLength(1 + 12 + 16 + msg.length);
    expect(Buffer.from(s1.subarray(1, 13)).equals(Buffer.from(s2.subarray(1, 13)))).toBe(false);
    expect(text(open(s1, key))).toBe(text(msg));
    expect(open(seal(new Uint8Array(0), key), key)).toHaveLength(0);
  });

  it("detects tampering anywhere: iv, tag, ciphertext, and a wrong key", () => {
    const key = generateDataKey();
    const sealed = seal(bytes("do not touch"), key);
    for (const index of [1, 13, 29, sealed.length - 1]) {
      const t = Uint8Array.from(sealed);
      t[index]! ^= 0x01;
      expect(() => open(t, key)).toThrow(/tampered/);
    }
    expect(() => open(sealed, generateDataKey())).toThrow(EnvelopeError);
    expect(() => open(sealed.subarray(0, 20), key)).toThrow(/truncated/);
    const v2 = Uint8Array.from(sealed);
    v2[0] = 2;
    expect(() => open(v2, key)).toThrow(/version 2/);
    expect(() => seal(bytes("x"), new Uint8Array(16))).toThrow(/32 bytes/);
  });
});

describe("wrapping for a party", () => {
  it("the addressee unwraps the data key; a third party cannot", () => {
    const key = generateDataKey();
    const wrapped = wrapKeyFor(a.encryptionPublicKeyPem, key);
    expect(wrapped).toHaveLength(256);
    expect(Buffer.from(a.unwrapKey(wrapped)).equals(Buffer.from(key))).toBe(true);
    expect(() => b.unwrapKey(wrapped)).toThrow(/not wrapped for this wallet/);

    const data = seal(bytes("for A's eyes"), key);
    expect(text(open(data, a.unwrapKey(wrapped)))).toBe("for A's eyes");
  });

  it("rejects keys that are not RSA-2048 or larger", () => {
    expect(() => wrapKeyFor(a.callbackPublicKeyPem, generateDataKey())).toThrow(/must be RSA/);
    expect(() => wrapKeyFor("not a pem", generateDataKey())).toThrow(EnvelopeError);
  });

  it("sealFor / openWith: direct RSA-OAEP up to 190 bytes, hybrid beyond; only the addressee opens", () => {
    const pin = bytes("123456");
    const small = sealFor(a.encryptionPublicKeyPem, pin);
    expect(small[0]).toBe(0x01);
    expect(small).toHaveLength(1 + 256);
    expect(text(openWith(a, small))).toBe("123456");
    expect(() => openWith(b, small)).toThrow();

    const edge = new Uint8Array(190).fill(7);
    expect(sealFor(a.encryptionPublicKeyPem, edge)[0]).toBe(0x01);
    expect(openWith(a, sealFor(a.encryptionPublicKeyPem, edge))).toEqual(edge);

    const big = new Uint8Array(191).fill(9);
    const sealedBig = sealFor(a.encryptionPublicKeyPem, big);
    expect(sealedBig[0]).toBe(0x02);
    expect(openWith(a, sealedBig)).toEqual(big);
    expect(() => openWith(b, sealedBig)).toThrow();
    const t = Uint8Array.from(sealedBig);
    t[t.length - 1]! ^= 1;
    expect(() => openWith(a, t)).toThrow(/tampered/);
    expect(() => openWith(a, new Uint8Array([0x07, 1]))).toThrow(/unknown format/);
  });
});
