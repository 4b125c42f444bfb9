import { copyFileSync, chmodSync, constants as fsConstants, existsSync, linkSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, resolveFrom, type Config } from "../config/load.js";
import {
  WalletNotFoundError,
  createKeystore,
  readPublicKeystore,
  writeFileAtomic,
  type PublicKeystore,
} from "../adapters/wallet/keystore.js";
import { resolvePassphrase } from "../adapters/wallet/passphrase.js";
import { walletPaths } from "../adapters/wallet/paths.js";

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const WALLET_USAGE = `usage: scr wallet <command> [options]

commands:
  init [--config <file>] [--force]
      create the wallet keystore in the data directory (a second run leaves it alone;
      --force moves the old file aside to <file>.bak-<timestamp> and creates a new one)
  show [--config <file>] [--json]
      print the address and public keys (no passphrase needed)
  export-public-key --out <file> [--config <file>] [--force]
      write the callback public key (PEM), which verifies the JWTs on callbacks

The passphrase comes from the variable named by wallet.passphraseEnv
(SCR_WALLET_PASSPHRASE by default) or from wallet.passphraseFile. With the embedded
defaults (no --config), one is generated into <dataDir>/wallet.passphrase.
`;

/** Where the wallet files of a configuration are. */
class UsageError extends Error {}

/** `scr wallet ...`; resolves to the exit code (0 ok, 1 runtime error, 2 usage). */
export async function walletCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  const out = (text: string) => io.stdout.write(text);
  const err = (text: string) => io.stderr.write(text);
  try {
    switch (sub) {
      case "init":
        return init(rest, out, err);
      case "show":
        return show(rest, out);
      case "export-public-key":
        return exportPublicKey(rest, out);
      case "help":
      case "--help":
      case "-h":
        out(WALLET_USAGE);
        return 0;
      case undefined:
        err(WALLET_USAGE);
        return 2;
      default:
        err(`scr wallet: unknown command "${sub}"\n\n${WALLET_USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || isParseArgsError(e)) {
      err(`scr wallet ${sub}: ${(e as Error).message}\n\n${WALLET_USAGE}`);
      return 2;
    }
    err(`scr wallet ${sub}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function isParseArgsError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

function init(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { config: { type: "string", short: "c" }, force: { type: "boolean", default: false } },
  });
  const config = loadConfig(values.config);
  const paths = walletPaths(config);

  let existing: PublicKeystore | undefined;
  if (existsSync(paths.keystore)) {
    try {
      existing = readPublicKeystore(paths.keystore);
    } catch (e) {
      if (!values.force) throw new Error(`${(e as Error).message}; use --force to move it aside and create a new wallet`);
    }
    if (!values.force) {
      out(`wallet already exists at ${paths.keystore} (address ${existing?.address}); left unchanged\n`);
      return 0;
    }
  }

  // Resolve the passphrase before touching anything.
  const pass = resolvePassphrase({
    env: config.wallet.passphraseEnv,
    ...(paths.passphraseFile === undefined ? {} : { file: paths.passphraseFile }),
    dataDir: paths.dataDir,
    allowGenerated: values.config === undefined,
  });
  if (pass.generated) {
    err(
      `\n*** WARNING: the wallet passphrase was generated and is stored in clear in ${pass.file}.\n` +
        `*** Anyone who can read that file can use the organisation's keys. This is for development only:\n` +
        `*** in production set ${config.wallet.passphraseEnv} or "wallet.passphraseFile" in the configuration.\n\n`,
    );
  }

  if (existsSync(paths.keystore)) {
    const backup = moveAside(paths.keystore);
    out(`moved the previous wallet${existing ? ` (address ${existing.address})` : ""} aside to ${backup}\n`);
  }
  const created = createKeystore(paths.keystore, pass.passphrase, { force: true });
  out(`created wallet at ${created.file}\naddress: ${created.address}\n`);
  return 0;
}

/** Keeps the current file at `<file>.bak-<timestamp>`; the caller then replaces `file`
 * atomically, so there is a wallet at `file` at every moment. */
export function moveAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let backup = `${file}.bak-${stamp}`;
  for (let i = 1; existsSync(backup); i++) backup = `${file}.bak-${stamp}-${i}`;
  try {
    linkSync(file, backup); // same inode, same mode 0600
  } catch {
    copyFileSync(file, backup, fsConstants.COPYFILE_EXCL);
    chmodSync(backup, 0o600);
  }
  return backup;
}

export function loadPublic(configFile: string | undefined): PublicKeystore {
  const paths = walletPaths(loadConfig(configFile));
  try {
    return readPublicKeystore(paths.keystore);
  } catch (e) {
    if (e instanceof WalletNotFoundError) throw new Error(`no wallet at ${paths.keystore}: run \`scr wallet init\``);
    throw e;
  }
}

function show(argv: string[], out: (s: string) => void): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { config: { type: "string", short: "c" }, json: { type: "boolean", default: false } },
  });
  const w = loadPublic(values.config);
  if (values.json) {
    const { file, address, encryptionPublicKeyPem, callbackPublicKeyPem, createdAt } = w;
    out(JSON.stringify({ file, address, encryptionPublicKeyPem, callbackPublicKeyPem, createdAt }, null, 2) + "\n");
    return 0;
  }
  out(
    `wallet:  ${w.file}\n` +
      `address: ${w.address}\n` +
      `created: ${w.createdAt}\n\n` +
      `encryption public key (RSA-OAEP; what other organisations see in GET /connections):\n${ensureNewline(w.encryptionPublicKeyPem)}\n` +
      `callback public key (ES256; verifies the JWTs on callbacks):\n${ensureNewline(w.callbackPublicKeyPem)}`,
  );
  return 0;
}

function exportPublicKey(argv: string[], out: (s: string) => void): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: "string", short: "o" },
      config: { type: "string", short: "c" },
      force: { type: "boolean", default: false },
    },
  });
  if (!values.out) throw new UsageError("--out <file> is required");
  const target = resolve(values.out);
  const pem = ensureNewline(loadPublic(values.config).callbackPublicKeyPem);

  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${target}: ${(e as Error).message}`);
  }
  if (current === pem) {
    out(`${target} already holds the callback public key; unchanged\n`);
    return 0;
  }
  const refuse = () => new Error(`${target} exists with different content; use --force to overwrite it`);
  if (current !== undefined && !values.force) throw refuse();
  try {
    writeFileAtomic(target, pem, { mode: 0o644, overwrite: values.force === true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw refuse();
    throw new Error(`cannot write ${target}: ${(e as Error).message}`);
  }
  out(`wrote the callback public key to ${target}\n`);
  return 0;
}

function ensureNewline(s: string): string {
  return s.endsWith("\n") ? s : s + "\n";
}
