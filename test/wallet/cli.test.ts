import { createPublicKey, verify } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { readPublicKeystore, unlockKeystore } from "../../src/adapters/wallet/keystore.js";
import type { Wallet } from "../../src/ports/wallet.js";
import { walletCommand } from "../../src/cli/wallet.js";

// The CLI uses the production scrypt cost (about 1 s per keystore created or unlocked).

function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

async function run(...argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const code = await walletCommand(argv, { stdout: stdout.stream, stderr: stderr.stream });
  const out = { code, stdout: stdout.text(), stderr: stderr.text() };
  // Never any private material or passphrase on either stream.
  expect(out.stdout + out.stderr).not.toMatch(/PRIVATE KEY|correct-passphrase/);
  return out;
}

const PASS = "correct-passphrase";
let dir: string;
let config: string;
let keystore: string;
let unlocked: Wallet | undefined; // the wallet init created, unlocked once (production cost)
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "scr-cli-wallet-"));
  config = join(dir, "configuration.json");
  writeFileSync(join(dir, "pass.txt"), PASS + "\n");
  writeFileSync(config, JSON.stringify({ dataDir: "data", wallet: { keystore: "keys/wallet.json", passphraseFile: "pass.txt" } }));
  keystore = join(dir, "data", "keys", "wallet.json");
});

describe("scr wallet", () => {
  it("show without a wallet says how to create one", async () => {
    const r = await run("show", "--config", config);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no wallet at ${keystore}: run \`scr wallet init\``);
  });

  it("init creates the keystore; a second init leaves it untouched", async () => {
    const first = await run("init", "--config", config);
    expect(first.code).toBe(0);
    const { address } = readPublicKeystore(keystore);
    expect(first.stdout).toContain(`created wallet at ${keystore}`);
    expect(first.stdout).toContain(address);
    expect(first.stderr).toBe("");
    expect(statSync(keystore).mode & 0o777).toBe(0o600);
    unlocked = unlockKeystore(keystore, PASS); // the configured passphrase file was used
    expect(unlocked.address).toBe(address);

    const before = readFileSync(keystore, "utf8");
    const mtime = statSync(keystore).mtimeMs;
    const second = await run("init", "--config", config);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`wallet already exists at ${keystore} (address ${address})`);
    expect(readFileSync(keystore, "utf8")).toBe(before);
    expect(statSync(keystore).mtimeMs).toBe(mtime);
  });

  it("show needs no passphrase; --json gives the public parts", async () => {
    const cfg = join(dir, "no-pass.json");
    writeFileSync(cfg, JSON.stringify({ dataDir: "data", wallet: { keystore: "keys/wallet.json", passphraseEnv: "SCR_TEST_UNSET_VAR" } }));
    const pub = readPublicKeystore(keystore);
    const text = await run("show", "--config", cfg);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`address: ${pub.address}`);
    expect(text.stdout).toContain(pub.encryptionPublicKeyPem);
    expect(text.stdout).toContain(pub.callbackPublicKeyPem);

    const json = await run("show", "--config", cfg, "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      file: keystore,
      address: pub.address,
      encryptionPublicKeyPem: pub.encryptionPublicKeyPem,
      callbackPublicKeyPem: pub.callbackPublicKeyPem,
      createdAt: pub.createdAt,
    });
  });

  it("export-public-key writes the callback key, which verifies a callback JWT (node:crypto, not jose)", async () => {
    const out = join(dir, "scr-callback.pem");
    const r = await run("export-public-key", "--out", out, "--config", config);
    expect(r.code).toBe(0);
    const pem = readFileSync(out, "utf8");
    expect(pem).toBe(readPublicKeystore(keystore).callbackPublicKeyPem);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);

    // Same content again: a no-op success.
    const again = await run("export-public-key", "--out", out, "--config", config);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("unchanged");

    // The gateway signs with callbackPrivateKey(); the internal system verifies with the file.
    const wallet = unlocked!;
    const jwt = await new SignJWT({ event: "onRelease" })
      .setProtectedHeader({ alg: "ES256", typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime("30s")
      .sign(wallet.callbackPrivateKey());
    const [header, payload, signature] = jwt.split(".") as [string, string, string];
    const ok = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      { key: createPublicKey(pem), dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
    expect(ok).toBe(true);
    const forged = verify(
      "sha256",
      Buffer.from(`${header}.${Buffer.from('{"event":"forged"}').toString("base64url")}`),
      { key: createPublicKey(pem), dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
    expect(forged).toBe(false);
    // Never the chain key, never the encryption key.
    expect(pem).not.toBe(wallet.encryptionPublicKeyPem);
    expect(createPublicKey(pem).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("export-public-key refuses to overwrite a different file without --force", async () => {
    const out = join(dir, "other.pem");
    writeFileSync(out, "something else\n");
    const refused = await run("export-public-key", "--out", out, "--config", config);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${out} exists with different content; use --force`);
    expect(readFileSync(out, "utf8")).toBe("something else\n");

    const forced = await run("export-public-key", "--out", out, "--config", config, "--force");
    expect(forced.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readPublicKeystore(keystore).callbackPublicKeyPem);
  });

  it("init --force moves the old wallet aside, then replaces it", async () => {
    const old = readPublicKeystore(keystore);
    const oldText = readFileSync(keystore, "utf8");
    const r = await run("init", "--config", config, "--force");
    expect(r.code).toBe(0);
    const backups = readdirSync(join(dir, "data", "keys")).filter((f) => f.startsWith("wallet.json.bak-"));
    expect(backups).toHaveLength(1);
    const backup = join(dir, "data", "keys", backups[0]!);
    expect(r.stdout).toContain(`aside to ${backup}`);
    expect(readFileSync(backup, "utf8")).toBe(oldText);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    const now = readPublicKeystore(keystore);
    expect(now.address).not.toBe(old.address);
  });

  it("init without a passphrase source fails before creating anything", async () => {
    const cfg = join(dir, "no-source.json");
    writeFileSync(cfg, JSON.stringify({ dataDir: "data2", wallet: { passphraseEnv: "SCR_TEST_UNSET_VAR" } }));
    const r = await run("init", "--config", cfg);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("set the environment variable SCR_TEST_UNSET_VAR");
    expect(existsSync(join(dir, "data2", "wallet.json"))).toBe(false);
  });

  it("usage errors exit 2; configuration errors exit 1", async () => {
    for (const argv of [[], ["frobnicate"], ["show", "--bogus"], ["init", "extra"], ["export-public-key"]]) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain("usage: scr wallet");
    }
    expect((await run("show", "--bogus")).stderr).toMatch(/Unknown option '--bogus'/);
    expect((await run("help")).code).toBe(0);

    const missing = join(dir, "missing-config.json");
    const r = await run("show", "--config", missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read configuration file ${missing}`);
    rmSync(missing, { force: true });
  });
});
