import { createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { extname } from "node:path";

/** The configured authentication file cannot be used; the gateway must not start. */
export class AuthSetupError extends Error {
  override readonly name = "AuthSetupError";
}

export type AsymmetricAlg = "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA";
export type HmacAlg = "HS256" | "HS384" | "HS512";

/** A verification key and the only algorithms a token may use with it. */
export type VerificationKey =
  | { kind: "public"; key: KeyObject; algorithms: AsymmetricAlg[] }
  | { kind: "secret"; key: Uint8Array; algorithms: HmacAlg[] };

export const MIN_RSA_BITS = 2048;
export const MIN_SECRET_BYTES = 32;

const EC_ALGS: Record<string, AsymmetricAlg> = {
  prime256v1: "ES256",
  "P-256": "ES256",
  secp384r1: "ES384",
  "P-384": "ES384",
  secp521r1: "ES512",
  "P-521": "ES512",
};

/** Reads the `authentication` file: a `.pem` public key or a `.txt` shared secret. */
export function loadVerificationKey(file: string, opts: { secretEncoding?: "utf8" | "base64" } = {}): VerificationKey {
  const ext = extname(file).toLowerCase();
  if (ext !== ".pem" && ext !== ".txt") {
    throw new AuthSetupError(`authentication file ${file} must be a .pem public key or a .txt secret`);
  }
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new AuthSetupError(`cannot read authentication file ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  return ext === ".pem" ? publicKeyFrom(data, file) : secretFrom(data, file, opts.secretEncoding ?? "utf8");
}

export function publicKeyFrom(pem: Buffer | string, file = "the public key"): VerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new AuthSetupError(`${file} does not hold a PEM public key`);
  }
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case "rsa":
    case "rsa-pss": {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new AuthSetupError(`${file} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`);
      }
      const ps: AsymmetricAlg[] = ["PS256", "PS384", "PS512"];
      return { kind: "public", key, algorithms: type === "rsa" ? ["RS256", "RS384", "RS512", ...ps] : ps };
    }
    case "ec": {
      const alg = EC_ALGS[details.namedCurve ?? ""];
      if (!alg) throw new AuthSetupError(`${file} is an EC key on curve ${details.namedCurve}; use P-256, P-384 or P-521`);
      return { kind: "public", key, algorithms: [alg] };
    }
    case "ed25519":
      return { kind: "public", key, algorithms: ["EdDSA"] };
    default:
      throw new AuthSetupError(`${file} is a ${type} key; use RSA, EC (P-256, P-384, P-521) or Ed25519`);
  }
}

export function secretFrom(data: Buffer, file = "the secret", encoding: "utf8" | "base64" = "utf8"): VerificationKey {
  const last = data.at(-1);
  if (last === 0x0a || last === 0x0d) {
    throw new AuthSetupError(
      `${file} ends with a new line; the file must not contain a carriage return or new line character`,
    );
  }
  let secret: Buffer;
  if (encoding === "base64") {
    const text = data.toString("utf8");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new AuthSetupError(`${file} is not valid base64 (auth.secretEncoding is "base64")`);
    }
    secret = Buffer.from(text, "base64");
  } else {
    secret = data;
  }
  if (secret.length < MIN_SECRET_BYTES) {
    throw new AuthSetupError(`${file} holds a ${secret.length}-byte secret; at least ${MIN_SECRET_BYTES} bytes are required`);
  }
  // A KeyObject check only: jose takes the raw bytes.
  createSecretKey(secret);
  return { kind: "secret", key: new Uint8Array(secret), algorithms: ["HS256", "HS384", "HS512"] };
}
