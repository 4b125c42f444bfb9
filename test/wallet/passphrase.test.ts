import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { PassphraseError, resolvePassphrase } from "../../src/adapters/wallet/passphrase.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "scr-pass-"));
});
const VAR = "SCR_TEST_WALLET_PASSPHRASE";

describe("resolvePassphrase", () => {
  it("prefers the environment variable, then the file, then a generated one", () => {
    const file = join(dir, "pass.txt");
    writeFileSync(file, "from-file\n");
    const base = { env: VAR, file, dataDir: join(dir, "data"), allowGenerated: true };

    expect(resolvePassphrase({ ...base, environment: { [VAR]: "from-env" } })).toEqual({
      passphrase: "from-env",
      source: "env",
      generated: false,
    });
    // An empty variable counts as unset.
    expect(resolvePassphrase({ ...base, environment: { [VAR]: "" } })).toMatchObject({ passphrase: "from-file", source: "file" });
    expect(resolvePassphrase({ ...base, environment: {} })).toMatchObject({ passphrase: "from-file", generated: false });

    const { file: _f, ...noFile } = base;
    const gen = resolvePassphrase({ ...noFile, environment: {} });
    expect(gen).toMatchObject({ source: "generated", generated: true, file: join(dir, "data", "wallet.passphrase") });
    expect(gen.passphrase.length).toBeGreaterThanOrEqual(32);
  });

  it("reads process.env by default", () => {
    process.env[VAR] = "from-process-env";
    try {
      expect(resolvePassphrase({ env: VAR, dataDir: dir, allowGenerated: false }).passphrase).toBe("from-process-env");
    } finally {
      delete process.env[VAR];
    }
  });

  it("trims exactly one trailing newline from the file", () => {
    const file = join(dir, "p");
    const read = () => resolvePassphrase({ env: VAR, file, dataDir: dir, allowGenerated: false, environment: {} }).passphrase;
    writeFileSync(file, "secret");
    expect(read()).toBe("secret");
    writeFileSync(file, "secret\n");
    expect(read()).toBe("secret");
    writeFileSync(file, "secret\r\n");
    expect(read()).toBe("secret");
    writeFileSync(file, "secret\n\n");
    expect(read()).toBe("secret\n");
    writeFileSync(file, "  spaced  \n");
    expect(read()).toBe("  spaced  ");
  });

  it("names the file when it is unreadable or empty", () => {
    const missing = join(dir, "missing.txt");
    const opts = { env: VAR, dataDir: dir, allowGenerated: true, environment: {} };
    expect(() => resolvePassphrase({ ...opts, file: missing })).toThrow(PassphraseError);
    expect(() => resolvePassphrase({ ...opts, file: missing })).toThrow(`cannot read wallet passphrase file ${missing}`);
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "\n");
    expect(() => resolvePassphrase({ ...opts, file: empty })).toThrow(`wallet passphrase file ${empty} is empty`);
  });

  it("generates only when allowed: once, mode 0600, reused afterwards", () => {
    const dataDir = join(dir, "data");
    expect(() => resolvePassphrase({ env: VAR, dataDir, allowGenerated: false, environment: {} })).toThrow(
      `no wallet passphrase: set the environment variable ${VAR} or "wallet.passphraseFile" in the configuration`,
    );
    const first = resolvePassphrase({ env: VAR, dataDir, allowGenerated: true, environment: {} });
    const path = join(dataDir, "wallet.passphrase");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe(first.passphrase + "\n");
    const second = resolvePassphrase({ env: VAR, dataDir, allowGenerated: true, environment: {} });
    expect(second).toEqual(first);
  });
});
