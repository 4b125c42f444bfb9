import { createDecipheriv, scryptSync } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Transaction, getAddress, isAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  KeystoreError,
  WalletExistsError,
  WalletNotFoundError,
  WrongPassphraseError,
  createKeystore,
  readPublicKeystore,
  unlockKeystore,
} from "../../src/adapters/wallet/keystore.js";
import type { Wallet } from "../../src/ports/wallet.js";

const TEST_SCRYPT = { N: 2 ** 12 };
const PASS = "correct horse battery staple";
const TO = "0x000000000000000000000000000000000000dEaD";

let dir: string;
let file: string;
let wallet: Wallet;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "scr-keystore-"));
  file = join(dir, "nested", "wallet.json");
  createKeystore(file, PASS, { scrypt: TEST_SCRYPT });
  wallet = unlockKeystore(file, PASS);
});

const raw = () => JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;
const variant = (name: string, edit: (json: Record<string, any>) => unknown): string => {
  const json = raw();
  const out = edit(json) ?? json;
  const path = join(dir, name);
  writeFileSync(path, typeof out === "string" ? out : JSON.stringify(out), { mode: 0o600 });
  return path;
};

describe("keystore file", () => {
  it("has the documented shape, mode 0600, and public parts readable without the passphrase", () => {
    const json = raw();
    expect(json).toMatchObject({
      version: 1,
      kdf: { name: "scrypt", N: 4096, r: 8, p: 1 },
      cipher: { name: "aes-256-gcm" },
    });
    expect(json.kdf.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(json.cipher.iv).toMatch(/^[0-9a-f]{24}$/);
    expect(json.cipher.tag).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(json.createdAt)).not.toBeNaN();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "nested"))).toEqual(["wallet.json"]); // no temp file left

    const pub = readPublicKeystore(file);
    expect(pub.address).toBe(wallet.address);
    expect(getAddress(pub.address)).toBe(pub.address); // EIP-55
    expect(pub.encryptionPublicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(pub.encryptionPublicKeyPem).toBe(wallet.encryptionPublicKeyPem);
    expect(pub.callbackPublicKeyPem).toBe(wallet.callbackPublicKeyPem);
    expect(pub.callbackPublicKeyPem).not.toBe(pub.encryptionPublicKeyPem);
  });

  it("holds no private material in clear", () => {
    // Decrypt independently of the implementation, to learn what must not appear.
    const json = raw();
    const key = scryptSync(PASS, Buffer.from(json.kdf.salt, "hex"), 32, { N: json.kdf.N, r: json.kdf.r, p: json.kdf.p });
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(json.cipher.iv, "hex"));
    d.setAuthTag(Buffer.from(json.cipher.tag, "hex"));
    const secrets = JSON.parse(Buffer.concat([d.update(Buffer.from(json.ciphertext, "hex")), d.final()]).toString());
    expect(Object.keys(secrets).sort()).toEqual(["callbackPrivateKeyPem", "chainPrivateKey", "encryptionPrivateKeyPem"]);
    expect(secrets.chainPrivateKey).toMatch(/^0x[0-9a-f]{64}$/);

    const text = readFileSync(file, "utf8");
    const lower = text.toLowerCase();
    expect(text).not.toContain("PRIVATE KEY");
    expect(lower).not.toContain(secrets.chainPrivateKey.slice(2).toLowerCase());
    const pemBody = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"));
    const callbackPem = wallet.callbackPrivateKey().export({ type: "pkcs8", format: "pem" }) as string;
    expect(callbackPem).toBe(secrets.callbackPrivateKeyPem);
    for (const line of [...pemBody(secrets.encryptionPrivateKeyPem), ...pemBody(callbackPem)]) {
      expect(text).not.toContain(line);
    }
    const pkcs8 = wallet.callbackPrivateKey().export({ type: "pkcs8", format: "der" }).toString("hex");
    expect(lower).not.toContain(pkcs8.slice(-64));
  });

  it("does not show private keys when the wallet is logged", () => {
    const shown = inspect(wallet, { depth: 5, showHidden: true }) + JSON.stringify(wallet);
    expect(shown).not.toMatch(/PRIVATE|privateKey/);
  });

  it("refuses to overwrite an existing keystore unless forced", () => {
    const before = readFileSync(file, "utf8");
    expect(() => createKeystore(file, PASS, { scrypt: TEST_SCRYPT })).toThrow(WalletExistsError);
    expect(readFileSync(file, "utf8")).toBe(before);

    const other = join(dir, "forced.json");
    const first = createKeystore(other, "p1", { scrypt: TEST_SCRYPT });
    const second = createKeystore(other, "p2", { scrypt: TEST_SCRYPT, force: true });
    expect(second.address).not.toBe(first.address);
    expect(statSync(other).mode & 0o777).toBe(0o600);
    expect(unlockKeystore(other, "p2").address).toBe(second.address);
  });

  it("rejects an empty passphrase", () => {
    expect(() => createKeystore(join(dir, "empty.json"), "", { scrypt: TEST_SCRYPT })).toThrow(/empty passphrase/);
    expect(existsSync(join(dir, "empty.json"))).toBe(false);
  });
});

describe("unlocking", () => {
  it("a wrong passphrase gives a clear error naming the file", () => {
    expect(() => unlockKeystore(file, "wrong")).toThrow(WrongPassphraseError);
    expect(() => unlockKeystore(file, "wrong")).toThrow(`wrong passphrase for wallet ${file}`);
  });

  it("a missing file", () => {
    expect(() => readPublicKeystore(join(dir, "none.json"))).toThrow(WalletNotFoundError);
    expect(() => unlockKeystore(join(dir, "none.json"), PASS)).toThrow(/no wallet at/);
  });

  it("a corrupted file gives a clear error, not a crypto stack trace", () => {
    const cases: Array<[string, (j: Record<string, any>) => unknown, RegExp]> = [
      ["not-json", () => "{ this is not json", /is corrupted: not valid JSON/],
      ["truncated", () => readFileSync(file, "utf8").slice(0, 100), /is corrupted/],
      ["no-kdf", (j) => { delete j.kdf; }, /is corrupted: kdf/],
      ["bad-iv", (j) => { j.cipher.iv = "abcd"; }, /cipher\.iv must be 12 bytes/],
      ["odd-hex", (j) => { j.ciphertext = j.ciphertext.slice(1); }, /ciphertext must be whole bytes/],
      ["huge-n", (j) => { j.kdf.N = 2 ** 30; }, /is corrupted: kdf\.N/],
      ["bad-pem", (j) => { j.encryptionPublicKeyPem = "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n"; }, /encryptionPublicKeyPem is not a valid public key/],
      ["version-2", (j) => { j.version = 2; }, /is corrupted: version/],
    ];
    for (const [name, edit, message] of cases) {
      const path = variant(`${name}.json`, edit);
      expect(() => unlockKeystore(path, PASS), name).toThrow(KeystoreError);
      expect(() => unlockKeystore(path, PASS), name).toThrow(message);
      expect(() => unlockKeystore(path, PASS), name).toThrow(path);
    }
  });

  it("edited public parts are caught on unlock", () => {
    const another = join(dir, "another.json");
    createKeystore(another, "x", { scrypt: TEST_SCRYPT });
    const foreign = readPublicKeystore(another);

    const addr = variant("edited-address.json", (j) => { j.address = foreign.address; });
    expect(readPublicKeystore(addr).address).toBe(foreign.address); // public read cannot tell
    expect(() => unlockKeystore(addr, PASS)).toThrow(/corrupted: the address does not match/);

    const enc = variant("edited-enc.json", (j) => { j.encryptionPublicKeyPem = foreign.encryptionPublicKeyPem; });
    expect(() => unlockKeystore(enc, PASS)).toThrow(/encryptionPublicKeyPem does not match/);
    const cb = variant("edited-cb.json", (j) => { j.callbackPublicKeyPem = foreign.callbackPublicKeyPem; });
    expect(() => unlockKeystore(cb, PASS)).toThrow(/callbackPublicKeyPem does not match/);
  });
});

describe("signTransaction", () => {
  it("signs an EIP-1559 (type 2) transaction that recovers to the wallet address", async () => {
    const signed = await wallet.signTransaction({
      to: TO.toLowerCase(),
      data: "0xa9059cbb",
      nonce: 7,
      chainId: 31337n,
      gasLimit: 100_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      value: 5n,
    });
    expect(signed).toMatch(/^0x02/);
    const tx = Transaction.from(signed);
    expect(tx.from).toBe(wallet.address);
    expect(tx).toMatchObject({ type: 2, to: TO, nonce: 7, chainId: 31337n, gasLimit: 100_000n, value: 5n, data: "0xa9059cbb" });
    expect(tx.maxFeePerGas).toBe(2_000_000_000n);
  });

  it("signs a legacy EIP-155 transaction with gasPrice 0 (permissioned networks)", async () => {
    const signed = await wallet.signTransaction({ to: TO, data: "0x", nonce: 0, chainId: 1337n, gasLimit: 21_000n, gasPrice: 0n });
    const tx = Transaction.from(signed);
    expect(tx.from).toBe(wallet.address);
    expect(tx.type).toBe(0);
    expect(tx.gasPrice).toBe(0n);
    expect(tx.chainId).toBe(1337n);
    // gasPrice omitted: legacy with 0
    const implicit = Transaction.from(await wallet.signTransaction({ to: TO, data: "0x", nonce: 1, chainId: 1337n, gasLimit: 21_000n }));
    expect(implicit).toMatchObject({ type: 0, gasPrice: 0n, nonce: 1 });
    expect(implicit.from).toBe(wallet.address);
  });

  it("rejects malformed transactions", async () => {
    const base = { to: TO, data: "0x", nonce: 0, chainId: 1n, gasLimit: 21_000n };
    await expect(wallet.signTransaction({ ...base, to: "0x1234" })).rejects.toThrow();
    await expect(wallet.signTransaction({ ...base, nonce: -1 })).rejects.toThrow(/nonce/);
    await expect(wallet.signTransaction({ ...base, type: 2 })).rejects.toThrow(/maxFeePerGas/);
    await expect(wallet.signTransaction({ ...base, type: 1 })).rejects.toThrow(/unsupported transaction type/);
  });

  it("two keystores have distinct keys", () => {
    const other = join(dir, "distinct.json");
    createKeystore(other, PASS, { scrypt: TEST_SCRYPT });
    const w2 = readPublicKeystore(other);
    expect(isAddress(w2.address)).toBe(true);
    expect(w2.address).not.toBe(wallet.address);
    expect(w2.encryptionPublicKeyPem).not.toBe(wallet.encryptionPublicKeyPem);
  });
});
