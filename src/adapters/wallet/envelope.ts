/**
 * Envelope encryption over node:crypto.
 *
 * - `seal`/`open`: AES-256-GCM with a 32-byte data key. Layout:
 *   `version(1) = 1 | iv(12) | tag(16) | ciphertext`.
 * - `wrapKeyFor`: RSA-OAEP (SHA-256, MGF1-SHA-256) of a data key for a party's encryption
 *   public key (PEM SPKI); the party opens it with `Wallet.unwrapKey`.
 * - `sealFor`/`openWith`: one call for small secrets such as a pincode. Layout:
 *   - `0x01 | rsa-oaep(plaintext)` when the plaintext fits in one RSA-OAEP block
 *     (≤ 190 bytes for RSA-2048);
 *   - `0x02 | wrappedLength(2, big-endian) | rsa-oaep(dataKey) | seal(plaintext, dataKey)`
 *     otherwise.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import type { Wallet } from "../../ports/wallet.js";

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
}

const VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + IV_LENGTH + TAG_LENGTH;
export const DATA_KEY_LENGTH = 32;
/** Smallest RSA modulus accepted for wrapping, in bits. */
const MIN_RSA_BITS = 2048;
/** RSA-OAEP with SHA-256 spends 2·32 + 2 bytes of each block on padding. */
const OAEP_SHA256_OVERHEAD = 2 * 32 + 2;

const SEAL_FOR_DIRECT = 0x01;
const SEAL_FOR_HYBRID = 0x02;

/** A fresh random 32-byte AES-256 data key. */
export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_LENGTH));
}

function checkDataKey(dataKey: Uint8Array): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_LENGTH) {
    throw new EnvelopeError(`data key must be ${DATA_KEY_LENGTH} bytes`);
  }
}

/** AES-256-GCM encryption with a fresh random IV. */
export function seal(plaintext: Uint8Array, dataKey: Uint8Array): Uint8Array {
  checkDataKey(dataKey);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_LENGTH });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(HEADER_LENGTH + ciphertext.length);
  out[0] = VERSION;
  out.set(iv, 1);
  out.set(tag, 1 + IV_LENGTH);
  out.set(ciphertext, HEADER_LENGTH);
  return out;
}

/** Reverses `seal`. Throws `EnvelopeError` when the data was altered or the key is wrong. */
export function open(sealed: Uint8Array, dataKey: Uint8Array): Uint8Array {
  checkDataKey(dataKey);
  if (sealed.length < HEADER_LENGTH) {
    throw new EnvelopeError(`sealed data is truncated (${sealed.length} bytes, at least ${HEADER_LENGTH} expected)`);
  }
  if (sealed[0] !== VERSION) {
    throw new EnvelopeError(`sealed data has unsupported version ${sealed[0]} (expected ${VERSION})`);
  }
  const iv = sealed.subarray(1, 1 + IV_LENGTH);
  const tag = sealed.subarray(1 + IV_LENGTH, HEADER_LENGTH);
  const ciphertext = sealed.subarray(HEADER_LENGTH);
  const decipher = createDecipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw new EnvelopeError("sealed data failed authentication: it was tampered with, or the key is wrong");
  }
}

function rsaPublicKey(publicKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: "pem" });
  } catch (err) {
    throw new EnvelopeError(`not a valid PEM public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new EnvelopeError(`encryption public key must be RSA, not ${key.asymmetricKeyType ?? "unknown"}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new EnvelopeError(`RSA encryption public key is too small (${bits} bits, at least ${MIN_RSA_BITS} required)`);
  }
  return key;
}

function oaepEncrypt(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(
    publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, data),
  );
}

/** RSA-OAEP (SHA-256) wrap of a 32-byte data key for the holder of `publicKeyPem`. */
export function wrapKeyFor(publicKeyPem: string, dataKey: Uint8Array): Uint8Array {
  checkDataKey(dataKey);
  return oaepEncrypt(rsaPublicKey(publicKeyPem), dataKey);
}

/** Encrypts a small secret (a pincode) for the holder of `publicKeyPem`. */
export function sealFor(publicKeyPem: string, plaintext: Uint8Array): Uint8Array {
  const key = rsaPublicKey(publicKeyPem);
  const capacity = (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8 - OAEP_SHA256_OVERHEAD;
  if (plaintext.length <= capacity) {
    const wrapped = oaepEncrypt(key, plaintext);
    const out = new Uint8Array(1 + wrapped.length);
    out[0] = SEAL_FOR_DIRECT;
    out.set(wrapped, 1);
    return out;
  }
  const dataKey = generateDataKey();
  try {
    const wrapped = oaepEncrypt(key, dataKey);
    const body = seal(plaintext, dataKey);
    const out = new Uint8Array(3 + wrapped.length + body.length);
    out[0] = SEAL_FOR_HYBRID;
    out[1] = (wrapped.length >> 8) & 0xff;
    out[2] = wrapped.length & 0xff;
    out.set(wrapped, 3);
    out.set(body, 3 + wrapped.length);
    return out;
  } finally {
    dataKey.fill(0);
  }
}

/** Reverses `sealFor` with the recipient's wallet. */
export function openWith(wallet: Pick<Wallet, "unwrapKey">, sealed: Uint8Array): Uint8Array {
  switch (sealed[0]) {
    case SEAL_FOR_DIRECT:
      return wallet.unwrapKey(sealed.subarray(1));
    case SEAL_FOR_HYBRID: {
      if (sealed.length < 3) throw new EnvelopeError("sealed secret is truncated");
      const wrappedLength = ((sealed[1] ?? 0) << 8) | (sealed[2] ?? 0);
      if (sealed.length < 3 + wrappedLength + HEADER_LENGTH) throw new EnvelopeError("sealed secret is truncated");
      const dataKey = wallet.unwrapKey(sealed.subarray(3, 3 + wrappedLength));
      try {
        return open(sealed.subarray(3 + wrappedLength), dataKey);
      } finally {
        dataKey.fill(0);
      }
    }
    case undefined:
      throw new EnvelopeError("sealed secret is empty");
    default:
      throw new EnvelopeError(`sealed secret has unknown format 0x${sealed[0].toString(16).padStart(2, "0")}`);
  }
}
