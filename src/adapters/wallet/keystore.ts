/**
 * The encrypted keystore file and the in-memory wallet it unlocks.
 *
 * File (JSON, mode 0600):
 * ```
 * { version: 1, address,
 *   kdf: { name: "scrypt", N, r, p, salt },            // salt in hex
 *   cipher: { name: "aes-256-gcm", iv, tag },          // hex
 *   ciphertext,                                        // hex
 *   encryptionPublicKeyPem, callbackPublicKeyPem, createdAt }
 * ```
 * The plaintext is JSON `{ chainPrivateKey, encryptionPrivateKeyPem, callbackPrivateKeyPem }`.
 * The public parts are readable without the passphrase; on unlock they are checked against
 * the decrypted private keys, so an edited public part is reported as corruption.
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  existsSync,
} from "node:fs";
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  scryptSync,
  type KeyObject,
} from "node:crypto";
import { basename, dirname, join } from "node:path";
import { SigningKey, Transaction, computeAddress, getAddress, isHexString } from "ethers";
import { z } from "zod";
import type { UnsignedTx, Wallet } from "../../ports/wallet.js";

export class KeystoreError extends Error {
  override readonly name: string = "KeystoreError";
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
/** There is no keystore file. */
export class WalletNotFoundError extends KeystoreError {
  override readonly name = "WalletNotFoundError";
}
/** A keystore file exists and overwriting was not asked for. */
export class WalletExistsError extends KeystoreError {
  override readonly name = "WalletExistsError";
}
/** The passphrase does not open the keystore. */
export class WrongPassphraseError extends KeystoreError {
  override readonly name = "WrongPassphraseError";
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Production cost: 2^17 iterations, 128 MiB, about one second. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

export interface CreateKeystoreOptions {
  /** Replace an existing file (atomically). Without it an existing file is an error. */
  force?: boolean;
  /** scrypt cost override, FOR TESTS ONLY (e.g. `{ N: 2 ** 12 }`). Production code must
   * leave it unset so `DEFAULT_SCRYPT` applies. */
  scrypt?: Partial<ScryptParams>;
  /** Creation time recorded in the file. */
  now?: Date;
}

export interface PublicKeystore {
  file: string;
  version: 1;
  address: string;
  encryptionPublicKeyPem: string;
  callbackPublicKeyPem: string;
  createdAt: string;
}

// ---------------------------------------------------------------------------------------
// File format

const hex = (what: string, bytes?: number) =>
  z
    .string()
    .regex(/^[0-9a-fA-F]*$/, `${what} must be hex`)
    .refine((s) => s.length % 2 === 0, `${what} must be whole bytes`)
    .refine((s) => (bytes === undefined ? s.length > 0 : s.length === bytes * 2), {
      message: bytes === undefined ? `${what} must not be empty` : `${what} must be ${bytes} bytes`,
    });

const keystoreFileSchema = z.object({
  version: z.literal(1),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "address must be a 20-byte hex address"),
  kdf: z.object({
    name: z.literal("scrypt"),
    N: z
      .number()
      .int()
      .min(2 ** 10)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, "N must be a power of two"),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: hex("kdf.salt").refine((s) => s.length >= 32, "kdf.salt must be at least 16 bytes"),
  }),
  cipher: z.object({
    name: z.literal("aes-256-gcm"),
    iv: hex("cipher.iv", 12),
    tag: hex("cipher.tag", 16),
  }),
  ciphertext: hex("ciphertext"),
  encryptionPublicKeyPem: z.string().startsWith("-----BEGIN PUBLIC KEY-----"),
  callbackPublicKeyPem: z.string().startsWith("-----BEGIN PUBLIC KEY-----"),
  createdAt: z.string(),
});
type KeystoreFile = z.infer<typeof keystoreFileSchema>;

const secretsSchema = z
  .object({
    chainPrivateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    encryptionPrivateKeyPem: z.string().startsWith("-----BEGIN PRIVATE KEY-----"),
    callbackPrivateKeyPem: z.string().startsWith("-----BEGIN PRIVATE KEY-----"),
  })
  .strict();
type Secrets = z.infer<typeof secretsSchema>;

function corrupted(file: string, detail: string, cause?: unknown): KeystoreError {
  return new KeystoreError(`wallet ${file} is corrupted: ${detail}`, file, cause === undefined ? undefined : { cause });
}

function readKeystoreFile(file: string): KeystoreFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new WalletNotFoundError(`no wallet at ${file}`, file, { cause: err });
    }
    throw new KeystoreError(`cannot read wallet ${file}: ${(err as Error).message}`, file, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupted(file, "not valid JSON", err);
  }
  const parsed = keystoreFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
    throw corrupted(file, issues.join("; "));
  }
  const data = parsed.data;
  if (128 * data.kdf.N * data.kdf.r > 2 ** 30) throw corrupted(file, "kdf cost is out of range");
  for (const [field, type] of [
    ["encryptionPublicKeyPem", "rsa"],
    ["callbackPublicKeyPem", "ec"],
  ] as const) {
    let key: KeyObject;
    try {
      key = createPublicKey(data[field]);
    } catch (err) {
      throw corrupted(file, `${field} is not a valid public key`, err);
    }
    if (key.asymmetricKeyType !== type) throw corrupted(file, `${field} is not an ${type.toUpperCase()} key`);
  }
  return data;
}

/** The public parts of a keystore; no passphrase needed. */
export function readPublicKeystore(file: string): PublicKeystore {
  const data = readKeystoreFile(file);
  return {
    file,
    version: data.version,
    address: getAddress(data.address),
    encryptionPublicKeyPem: data.encryptionPublicKeyPem,
    callbackPublicKeyPem: data.callbackPublicKeyPem,
    createdAt: data.createdAt,
  };
}

// ---------------------------------------------------------------------------------------
// Key derivation

function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize("NFKC"), salt, 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 32 * 1024 * 1024,
  });
}

function resolveScrypt(override: Partial<ScryptParams> | undefined): ScryptParams {
  const params = { ...DEFAULT_SCRYPT, ...override };
  const { N, r, p } = params;
  // The same bounds the reader accepts.
  if (!Number.isInteger(N) || N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0) {
    throw new RangeError("scrypt N must be a power of two from 2^10 to 2^20");
  }
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new RangeError("scrypt r must be 1..32 and p 1..16");
  }
  return params;
}

// ---------------------------------------------------------------------------------------
// Keys

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function randomChainKey(): string {
  for (;;) {
    const bytes = randomBytes(32);
    const k = BigInt("0x" + bytes.toString("hex"));
    if (k > 0n && k < SECP256K1_N) return "0x" + bytes.toString("hex");
  }
}

function generateSecrets(): Secrets {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    chainPrivateKey: randomChainKey(),
    encryptionPrivateKeyPem: rsa.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    callbackPrivateKeyPem: ec.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

function spkiPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: "spki", format: "pem" }) as string;
}

function sameKey(a: string, b: string): boolean {
  const der = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "der" });
  return der(a).equals(der(b));
}

/** The in-memory wallet. Private keys live in private fields, out of reach of logging. */
class KeystoreWallet implements Wallet {
  readonly address: string;
  readonly encryptionPublicKeyPem: string;
  readonly callbackPublicKeyPem: string;
  readonly #signingKey: SigningKey;
  readonly #encryptionKey: KeyObject;
  readonly #callbackKey: KeyObject;

  constructor(secrets: Secrets) {
    this.#signingKey = new SigningKey(secrets.chainPrivateKey);
    this.#encryptionKey = createPrivateKey(secrets.encryptionPrivateKeyPem);
    this.#callbackKey = createPrivateKey(secrets.callbackPrivateKeyPem);
    if (this.#encryptionKey.asymmetricKeyType !== "rsa") throw new Error("encryption key must be RSA");
    if (this.#callbackKey.asymmetricKeyType !== "ec" || this.#callbackKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error("callback key must be EC P-256");
    }
    this.address = computeAddress(this.#signingKey);
    this.encryptionPublicKeyPem = spkiPem(this.#encryptionKey);
    this.callbackPublicKeyPem = spkiPem(this.#callbackKey);
  }

  async signTransaction(tx: UnsignedTx): Promise<string> {
    const t = buildTransaction(tx);
    t.signature = this.#signingKey.sign(t.unsignedHash);
    return t.serialized;
  }

  unwrapKey(wrapped: Uint8Array): Uint8Array {
    try {
      return new Uint8Array(
        privateDecrypt({ key: this.#encryptionKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, wrapped),
      );
    } catch (err) {
      throw new Error("cannot unwrap key: it was not wrapped for this wallet's encryption key, or it was altered", {
        cause: err,
      });
    }
  }

  callbackPrivateKey(): KeyObject {
    return this.#callbackKey;
  }

  toJSON(): object {
    return { address: this.address };
  }
}

function buildTransaction(tx: UnsignedTx): Transaction {
  const to = getAddress(tx.to);
  if (!isHexString(tx.data)) throw new TypeError("transaction data must be 0x-prefixed hex");
  if (!Number.isSafeInteger(tx.nonce) || tx.nonce < 0) throw new RangeError("transaction nonce must be a non-negative integer");
  if (tx.chainId <= 0n) throw new RangeError("transaction chainId must be positive");
  if (tx.gasLimit <= 0n) throw new RangeError("transaction gasLimit must be positive");
  const type = tx.type ?? (tx.maxFeePerGas !== undefined ? 2 : 0);
  const common = { to, data: tx.data, nonce: tx.nonce, chainId: tx.chainId, gasLimit: tx.gasLimit, value: tx.value ?? 0n };
  if (type === 2) {
    if (tx.maxFeePerGas === undefined) throw new TypeError("a type 2 transaction needs maxFeePerGas");
    if (tx.gasPrice !== undefined) throw new TypeError("a type 2 transaction takes maxFeePerGas, not gasPrice");
    return Transaction.from({
      ...common,
      type: 2,
      maxFeePerGas: tx.maxFeePerGas,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
    });
  }
  if (type === 0) {
    if (tx.maxFeePerGas !== undefined || tx.maxPriorityFeePerGas !== undefined) {
      throw new TypeError("a legacy transaction takes gasPrice, not maxFeePerGas");
    }
    return Transaction.from({ ...common, type: 0, gasPrice: tx.gasPrice ?? 0n });
  }
  throw new RangeError(`unsupported transaction type ${type} (0 or 2)`);
}

/** A wallet with fresh keys that is never written anywhere; for tests and sandboxes. */
export function createEphemeralWallet(): Wallet {
  return new KeystoreWallet(generateSecrets());
}

// ---------------------------------------------------------------------------------------
// Create and unlock

/**
 * Generates the chain, encryption and callback keys and writes them, encrypted, to `file`
 * (mode 0600, atomically). Refuses to replace an existing file unless `force`.
 */
export function createKeystore(file: string, passphrase: string, opts: CreateKeystoreOptions = {}): PublicKeystore {
  if (!passphrase) throw new KeystoreError(`refusing to create wallet ${file} with an empty passphrase`, file);
  if (!opts.force && existsSync(file)) {
    throw new WalletExistsError(`wallet ${file} already exists; refusing to overwrite it`, file);
  }
  const params = resolveScrypt(opts.scrypt);
  const secrets = generateSecrets();
  const wallet = new KeystoreWallet(secrets);

  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = deriveKey(passphrase, salt, params);
  const plaintext = Buffer.from(JSON.stringify(secrets), "utf8");
  let ciphertext: Buffer;
  let tag: Buffer;
  try {
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
    ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    tag = cipher.getAuthTag();
  } finally {
    key.fill(0);
    plaintext.fill(0);
  }

  const content: KeystoreFile = {
    version: 1,
    address: wallet.address,
    kdf: { name: "scrypt", N: params.N, r: params.r, p: params.p, salt: salt.toString("hex") },
    cipher: { name: "aes-256-gcm", iv: iv.toString("hex"), tag: tag.toString("hex") },
    ciphertext: ciphertext.toString("hex"),
    encryptionPublicKeyPem: wallet.encryptionPublicKeyPem,
    callbackPublicKeyPem: wallet.callbackPublicKeyPem,
    createdAt: (opts.now ?? new Date()).toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileAtomic(file, JSON.stringify(content, null, 2) + "\n", { mode: 0o600, overwrite: opts.force === true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new WalletExistsError(`wallet ${file} already exists; refusing to overwrite it`, file, { cause: err });
    }
    throw err;
  }
  return {
    file,
    version: 1,
    address: content.address,
    encryptionPublicKeyPem: content.encryptionPublicKeyPem,
    callbackPublicKeyPem: content.callbackPublicKeyPem,
    createdAt: content.createdAt,
  };
}

/** Decrypts the keystore into an in-memory wallet. */
export function unlockKeystore(file: string, passphrase: string): Wallet {
  const data = readKeystoreFile(file);
  const key = deriveKey(passphrase, Buffer.from(data.kdf.salt, "hex"), data.kdf);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(data.cipher.iv, "hex"), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(data.cipher.tag, "hex"));
    plaintext = Buffer.concat([decipher.update(Buffer.from(data.ciphertext, "hex")), decipher.final()]);
  } catch {
    throw new WrongPassphraseError(`wrong passphrase for wallet ${file}`, file);
  } finally {
    key.fill(0);
  }

  let wallet: KeystoreWallet;
  try {
    let json: unknown;
    try {
      json = JSON.parse(plaintext.toString("utf8"));
    } catch (err) {
      throw corrupted(file, "the decrypted keys are not valid JSON", err);
    }
    const secrets = secretsSchema.safeParse(json);
    if (!secrets.success) throw corrupted(file, "the decrypted keys are malformed");
    try {
      wallet = new KeystoreWallet(secrets.data);
    } catch (err) {
      throw corrupted(file, "the decrypted keys are invalid", err);
    }
  } finally {
    plaintext.fill(0);
  }
  if (wallet.address !== getAddress(data.address)) {
    throw corrupted(file, "the address does not match the encrypted chain key");
  }
  if (!sameKey(wallet.encryptionPublicKeyPem, data.encryptionPublicKeyPem)) {
    throw corrupted(file, "encryptionPublicKeyPem does not match the encrypted encryption key");
  }
  if (!sameKey(wallet.callbackPublicKeyPem, data.callbackPublicKeyPem)) {
    throw corrupted(file, "callbackPublicKeyPem does not match the encrypted callback key");
  }
  return wallet;
}

// ---------------------------------------------------------------------------------------
// Files

/**
 * Writes `content` to a temporary file beside `file`, syncs it, then moves it into place.
 * With `overwrite: false` an existing `file` makes it fail with code EEXIST, race-free.
 */
export function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  opts: { mode: number; overwrite: boolean },
): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  const fd = openSync(tmp, "wx", opts.mode);
  try {
    try {
      fchmodSync(fd, opts.mode);
      const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.overwrite) {
      renameSync(tmp, file);
    } else {
      try {
        linkSync(tmp, file); // fails with EEXIST when the file exists
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
        // A file system without hard links: check, then rename.
        if (existsSync(file)) throw Object.assign(new Error(`EEXIST: file already exists, ${file}`), { code: "EEXIST" });
        renameSync(tmp, file);
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not supported everywhere; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
