import { mkdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "./keystore.js";

export class PassphraseError extends Error {
  override readonly name = "PassphraseError";
}

export interface ResolvePassphraseOptions {
  /** Name of the environment variable holding the passphrase (wallet.passphraseEnv). */
  env: string;
  /** Passphrase file (wallet.passphraseFile), already resolved to a path. */
  file?: string;
  /** The data directory, where a generated passphrase is kept. */
  dataDir: string;
  /** Only with the embedded development defaults: generate and keep a passphrase. */
  allowGenerated: boolean;
  /** The environment to read; `process.env` by default. */
  environment?: NodeJS.ProcessEnv;
}

export interface ResolvedPassphrase {
  passphrase: string;
  /** Where it came from. */
  source: "env" | "file" | "generated";
  /** True when it was generated into (or read back from) `<dataDir>/wallet.passphrase`: the
   * caller must warn loudly that the key protection is only as good as that file. */
  generated: boolean;
  /** The file it was read from, for "file" and "generated". */
  file?: string;
}

export const GENERATED_PASSPHRASE_FILE = "wallet.passphrase";

function stripOneNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}

function readPassphraseFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PassphraseError(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  const passphrase = stripOneNewline(text);
  if (passphrase.length === 0) throw new PassphraseError(`${what} ${file} is empty`);
  return passphrase;
}

/**
 * The wallet passphrase: the environment variable if set and non-empty; else the configured
 * file; else, only when `allowGenerated`, a passphrase generated once into
 * `<dataDir>/wallet.passphrase` (mode 0600) and reused afterwards.
 */
export function resolvePassphrase(opts: ResolvePassphraseOptions): ResolvedPassphrase {
  const environment = opts.environment ?? process.env;
  const fromEnv = environment[opts.env];
  if (fromEnv !== undefined && fromEnv !== "") return { passphrase: fromEnv, source: "env", generated: false };

  if (opts.file !== undefined) {
    return { passphrase: readPassphraseFile(opts.file, "wallet passphrase file"), source: "file", generated: false, file: opts.file };
  }

  if (!opts.allowGenerated) {
    throw new PassphraseError(
      `no wallet passphrase: set the environment variable ${opts.env} or "wallet.passphraseFile" in the configuration`,
    );
  }

  const file = join(opts.dataDir, GENERATED_PASSPHRASE_FILE);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const passphrase = randomBytes(32).toString("base64url");
  try {
    // Written whole, then linked into place: created once, never seen half-written.
    writeFileAtomic(file, passphrase + "\n", { mode: 0o600, overwrite: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new PassphraseError(`cannot create generated passphrase file ${file}: ${(err as Error).message}`, { cause: err });
    }
    return { passphrase: readPassphraseFile(file, "generated passphrase file"), source: "generated", generated: true, file };
  }
  return { passphrase, source: "generated", generated: true, file };
}
