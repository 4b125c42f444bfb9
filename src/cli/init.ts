/**
 * `scr init`, the installer: asks (or takes flags), then creates configuration.json, the data
 * directory, the wallet and the authentication key, connects to the chain once, and says what
 * to do next. What exists is reported and kept; only --force replaces it, keeping a copy.
 */
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { isAbsolute, join, relative, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { getAddress, isAddress } from "ethers";
import pino from "pino";
import { chainDir, connectChain } from "../adapters/chain/connect.js";
import type { ContractAddresses } from "../adapters/chain/evm/contracts.js";
import { readPublicKeystore, writeFileAtomic } from "../adapters/wallet/keystore.js";
import { walletPaths } from "../adapters/wallet/paths.js";
import { LOOPBACK } from "../auth/guard.js";
import { loadVerificationKey } from "../auth/keys.js";
import { loadConfig, parseConfig, resolveFrom, type LoadedConfig } from "../config/load.js";
import { redactUrl } from "../config/redact.js";
import { configSchema, type ConfigInput } from "../config/schema.js";
import { authCommand } from "./auth.js";
import { deployProgress } from "./progress.js";
import { RpcError, rpcCall } from "./rpc.js";
import { moveAside, walletCommand, type CommandIo } from "./wallet.js";

export const INIT_USAGE = `usage: scr init [options]

Sets up a gateway: configuration.json, the data directory, the wallet, the callers'
authentication key, and the chain. On a terminal it asks; otherwise (or with --yes) it takes
the flags and the defaults. Running it again keeps what exists (configuration, wallet,
secret) and says so; --force replaces them, keeping a copy beside each (<file>.bak-<time>).

options (the default in brackets):
  --dir <folder>              where configuration.json goes [the current folder]
  --data-dir <folder>         database, wallet and local chain state [data, in --dir]
  --host <address>            listen address [127.0.0.1]
  --port <n>                  listen port [5000]
  --base-url <path>           the REST prefix [/tmining/api/v1]
  --protocol http|https       [http]; https needs --cert and --key (PEM files)
  --cert <file> --key <file>  the server certificate and its private key
  --rpc-url <url>             a network's JSON-RPC node [none: the embedded local chain]
  --contracts <file>          the contract addresses: what \`scr chain deploy\` printed
  --organization-registry <0x…> --connections <0x…> --release-registry <0x…>
                              ...or the three addresses
  --auth none|secret|public-key
                              how callers' JWTs are verified [secret: a new 256-bit secret
                              in <dir>/auth.txt]; none only on a loopback --host
  --public-key <pem>          the callers' public key, with --auth public-key
  --passphrase-env <VAR>      the wallet passphrase is in this variable (set it now)
  --passphrase-file <file>    ...or in this file (created, mode 0600, with a random
                              passphrase when missing) [passphrase.txt in --dir, unless
                              SCR_WALLET_PASSPHRASE is set]
  --offline                   do not contact the chain now
  --yes, -y                   ask nothing: flags, then defaults
  --force                     replace an existing configuration, wallet and secret
`;

/** The command's streams; `stdin` and `interactive` drive the questions. */
export interface InitIo extends CommandIo {
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Ask the questions. Default: stdin is a terminal and --yes is not given. */
  interactive?: boolean;
}

/** A bad flag (exit 2); the message names it. */
class UsageError extends Error {}
/** Input ended before every question was answered. */
class InputClosed extends Error {}

const DEFAULT_PASSPHRASE_ENV = "SCR_WALLET_PASSPHRASE";
const DEFAULT_PASSPHRASE_FILE = "passphrase.txt";
const DEFAULT_SECRET_FILE = "auth.txt";
const CONFIG_FILE = "configuration.json";

const OPTIONS = {
  dir: { type: "string" },
  "data-dir": { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "base-url": { type: "string" },
  protocol: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "rpc-url": { type: "string" },
  contracts: { type: "string" },
  "organization-registry": { type: "string" },
  connections: { type: "string" },
  "release-registry": { type: "string" },
  auth: { type: "string" },
  "public-key": { type: "string" },
  "passphrase-env": { type: "string" },
  "passphrase-file": { type: "string" },
  offline: { type: "boolean", default: false },
  yes: { type: "boolean", short: "y", default: false },
  force: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };
type StringFlag = { [K in keyof Flags]-?: Flags[K] extends boolean | undefined ? never : K }[keyof Flags];

/** Flags that shape a new configuration (ignored when an existing one is kept). */
const SHAPING_FLAGS: StringFlag[] = [
  "data-dir", "host", "port", "base-url", "protocol", "cert", "key", "rpc-url", "contracts",
  "organization-registry", "connections", "release-registry", "auth", "public-key", "passphrase-env", "passphrase-file",
];

type AuthKind = "none" | "secret" | "public-key";

interface Answers {
  dataDir: string;
  host: string;
  port: number;
  baseURL: string;
  protocol: "http" | "https";
  cert?: string;
  key?: string;
  rpcUrl?: string;
  chainId?: number;
  contracts?: ContractAddresses;
  auth: AuthKind;
  publicKey?: string;
  passphrase: { env: string } | { file: string };
}

/** `scr init`; resolves to the exit code (0 done, 1 failed, 2 bad flag). */
export async function initCommand(argv: string[], io: InitIo): Promise<number> {
  const err = (s: string) => io.stderr.write(s);
  let flags: Flags;
  try {
    flags = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values as Flags;
  } catch (e) {
    err(`scr init: ${(e as Error).message}\n\n${INIT_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(INIT_USAGE);
    return 0;
  }
  const interactive = io.interactive ?? (!flags.yes && io.stdin?.isTTY === true);
  let rl: Interface | undefined;
  if (interactive) {
    const input = io.stdin ?? process.stdin;
    rl = createInterface({ input, output: io.stdout, terminal: input.isTTY === true });
    // Ctrl-C at a question ends the input (readline would otherwise only pause it).
    rl.on("SIGINT", () => rl!.close());
  }
  try {
    return await new Installer(flags, io, rl).run();
  } catch (e) {
    if (e instanceof UsageError) {
      err(`scr init: ${e.message}\n`);
      return 2;
    }
    if (e instanceof InputClosed) {
      err("\nscr init: the input ended before every question was answered; nothing more was done\n");
      return 1;
    }
    err(`scr init: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    rl?.close();
  }
}

class Installer {
  private readonly lines: AsyncIterator<string> | undefined;

  constructor(
    private readonly flags: Flags,
    private readonly io: InitIo,
    private readonly rl: Interface | undefined,
  ) {
    // Lines are read through the iterator, which buffers them: answers piped in ahead of
    // their questions are not lost (rl.question would drop them).
    this.lines = rl?.[Symbol.asyncIterator]();
  }

  private out(s: string): void {
    this.io.stdout.write(s);
  }

  async run(): Promise<number> {
    if (this.rl) this.out("scr init: a few questions; Enter takes the value in brackets.\n\n");
    const dir = await this.answer("dir", "Folder for configuration.json", process.cwd(), (t) => resolve(nonEmpty(t)));
    const configFile = join(dir, CONFIG_FILE);
    const force = this.flags.force === true;
    const exists = existsSync(configFile);

    let fresh: Answers | undefined;
    if (exists && !force) {
      this.out(`${configFile} exists; left unchanged (--force rewrites it, keeping a copy)\n`);
      const ignored = SHAPING_FLAGS.filter((f) => this.flags[f] !== undefined);
      if (ignored.length) this.out(`  ignored, as they shape a new configuration: ${ignored.map((f) => `--${f}`).join(", ")}\n`);
      // Validated as the gateway would: a broken file stops here.
      loadConfig(configFile);
    } else {
      fresh = await this.questions(dir, force);
      if (fresh.rpcUrl && !this.flags.offline) fresh.chainId = await this.checkNode(fresh.rpcUrl, fresh.contracts!, fresh.chainId);
      if (this.rl && !(await this.confirm(dir, fresh))) {
        this.out("nothing written\n");
        return 1;
      }
      mkdirSync(dir, { recursive: true });
      if (exists) this.out(`moved the previous configuration aside to ${moveAside(configFile)}\n`);
      this.writeConfig(configFile, dir, fresh, force);
    }

    this.rl?.close(); // every question is answered: the terminal is the commands' again
    const config = loadConfig(configFile);
    const dataDir = resolveFrom(config.baseDir, config.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.ensurePassphraseFile(config, force);

    const wallet = await walletCommand(["init", "--config", configFile, ...(force ? ["--force"] : [])], this.io);
    if (wallet !== 0) return wallet;

    if (fresh) {
      const code = await this.setUpAuth(configFile, dir, fresh.auth, fresh.publicKey, force);
      if (code !== 0) return code;
    } else {
      this.out(config.authentication ? `authentication: ${config.authentication} (kept)\n` : "authentication: none configured (kept)\n");
    }

    if (!config.chain.rpcUrl && !this.flags.offline) await this.prepareLocalChain(config);
    this.nextSteps(configFile, loadConfig(configFile));
    return 0;
  }

  // ------------------------------------------------------------------------------- questions

  /**
   * A flag's value, else (on a terminal) the answer to a question, else the default; `parse`
   * checks it and throws a message. A bad flag is a usage error naming it; a bad answer is
   * asked again.
   */
  private async answer<T>(flag: StringFlag, prompt: string, def: string, parse: (text: string) => T): Promise<T> {
    const given = this.flags[flag];
    if (given !== undefined) {
      try {
        return parse(given);
      } catch (e) {
        throw new UsageError(`--${flag}: ${(e as Error).message}`);
      }
    }
    if (!this.lines) {
      try {
        return parse(def);
      } catch (e) {
        throw new UsageError(`--${flag} is needed: ${(e as Error).message}`);
      }
    }
    for (;;) {
      const text = await this.ask(prompt, def);
      try {
        return parse(text);
      } catch (e) {
        this.out(`  ${(e as Error).message}\n`);
      }
    }
  }

  private async ask(prompt: string, def: string): Promise<string> {
    this.rl!.setPrompt(`${prompt}${def ? ` [${def}]` : ""}: `);
    this.rl!.prompt();
    const next = await this.lines!.next();
    if (next.done) throw new InputClosed();
    const text = next.value.trim();
    return text === "" ? def : text;
  }

  private async questions(dir: string, force: boolean): Promise<Answers> {
    const fromDir = (t: string) => resolve(dir, t);
    const dataDir = await this.answer("data-dir", "Data directory (database, wallet, local chain)", "data", (t) => inDir(dir, fromDir(nonEmpty(t))));
    const host = await this.answer("host", "Listen address", "127.0.0.1", parseHost);
    const port = await this.answer("port", "Port", "5000", parsePort);
    const baseURL = await this.answer("base-url", "REST base URL", "/tmining/api/v1", parseBaseUrl);
    const protocol = await this.answer("protocol", "Protocol (http or https)", "http", (t) => oneOf(t, ["http", "https"] as const));
    let cert: string | undefined;
    let key: string | undefined;
    if (protocol === "https") {
      cert = await this.answer("cert", "Server certificate (PEM file)", "", (t) => parseCert(resolve(nonEmpty(t, "the server certificate (PEM)"))));
      const certFile = cert;
      key = await this.answer("key", "Its private key (PEM file)", "", (t) => parseServerKey(resolve(nonEmpty(t, "the certificate's private key (PEM)")), certFile));
    } else {
      this.notFor("cert", "--protocol https");
      this.notFor("key", "--protocol https");
    }

    const chain = await this.chainAnswers();
    const auth = await this.answer("auth", "Callers' authentication (none, secret or public-key)", "secret", (t) => {
      const kind = oneOf(t, ["none", "secret", "public-key"] as const);
      if (kind === "none" && !LOOPBACK.test(host)) throw new Error(`none is allowed only on a loopback address, not on ${host}`);
      return kind;
    });
    let publicKey: string | undefined;
    if (auth === "public-key") {
      publicKey = await this.answer("public-key", "The callers' public key (PEM file)", "", (t) => parsePublicKey(resolve(nonEmpty(t, "a PEM public key file"))));
    } else {
      this.notFor("public-key", "--auth public-key");
    }
    // A new wallet is encrypted with the passphrase now: a variable must be set already.
    const newWallet = force || !existsSync(resolve(dir, dataDir, "wallet.json"));
    const passphrase = await this.passphraseAnswer(dir, (t) => {
      const name = parseEnvName(t);
      if (newWallet && !process.env[name]) throw new Error(`the variable ${name} is not set; set it (it encrypts the new wallet), or use a passphrase file`);
      return name;
    });
    return { dataDir, host, port, baseURL, protocol, cert, key, ...chain, auth, publicKey, passphrase };
  }

  /** A flag that only goes with another answer. */
  private notFor(flag: StringFlag, needs: string): void {
    if (this.flags[flag] !== undefined) throw new UsageError(`--${flag} goes only with ${needs}`);
  }

  private async chainAnswers(): Promise<Pick<Answers, "rpcUrl" | "chainId" | "contracts">> {
    const file = this.flags.contracts === undefined ? undefined : this.parseFlag("contracts", (t) => readContractsFile(resolve(t)));
    const three = ["organization-registry", "connections", "release-registry"] as const;
    const given = three.filter((f) => this.flags[f] !== undefined);
    if (file && given.length) throw new UsageError(`--${given[0]}: give either --contracts or the three addresses`);
    if (given.length && given.length < 3) {
      throw new UsageError(`--${three.find((f) => this.flags[f] === undefined)} is needed: the three addresses go together`);
    }
    const rpcUrl = await this.answer(
      "rpc-url",
      "JSON-RPC URL of the network's node (empty: the embedded local chain, a sandbox)",
      file?.rpcUrl ?? "",
      parseRpcUrl,
    );
    if (!rpcUrl) {
      if (file || given.length) throw new UsageError(`--${file ? "contracts" : given[0]} goes only with --rpc-url (a network's node)`);
      return {};
    }
    if (file) return { rpcUrl, contracts: file.contracts, ...(file.chainId === undefined ? {} : { chainId: file.chainId }) };
    if (given.length === 3) {
      const address = (f: (typeof three)[number]) => this.parseFlag(f, parseAddress);
      return { rpcUrl, contracts: { organizationRegistry: address(three[0]), connections: address(three[1]), releaseRegistry: address(three[2]) } };
    }
    if (!this.lines) throw new UsageError("--contracts <file> (or the three addresses) is needed with --rpc-url");
    const fromFile = await this.answer("contracts", "The contract addresses: the JSON file `scr chain deploy` printed (empty: type them)", "", (t) =>
      t ? readContractsFile(resolve(t)) : undefined,
    );
    if (fromFile) return { rpcUrl, contracts: fromFile.contracts, ...(fromFile.chainId === undefined ? {} : { chainId: fromFile.chainId }) };
    return {
      rpcUrl,
      contracts: {
        organizationRegistry: await this.answer("organization-registry", "OrganizationRegistry address", "", parseAddress),
        connections: await this.answer("connections", "Connections address", "", parseAddress),
        releaseRegistry: await this.answer("release-registry", "ReleaseRegistry address", "", parseAddress),
      },
    };
  }

  private parseFlag<T>(flag: StringFlag, parse: (t: string) => T): T {
    try {
      return parse(this.flags[flag]!);
    } catch (e) {
      throw new UsageError(`--${flag}: ${(e as Error).message}`);
    }
  }

  private async passphraseAnswer(dir: string, parseEnv: (t: string) => string): Promise<Answers["passphrase"]> {
    const env = this.flags["passphrase-env"];
    const file = this.flags["passphrase-file"];
    if (env !== undefined && file !== undefined) throw new UsageError("--passphrase-env and --passphrase-file: give one of them");
    if (env !== undefined) return { env: this.parseFlag("passphrase-env", parseEnv) };
    if (file !== undefined) return { file: this.parseFlag("passphrase-file", (t) => resolve(nonEmpty(t))) };
    const envSet = !!process.env[DEFAULT_PASSPHRASE_ENV];
    if (!this.lines) return envSet ? { env: DEFAULT_PASSPHRASE_ENV } : { file: join(dir, DEFAULT_PASSPHRASE_FILE) };
    const where = await this.answer("passphrase-file", "Wallet passphrase from an environment variable or a file (env or file)", envSet ? "env" : "file", (t) =>
      oneOf(t, ["env", "file"] as const),
    );
    if (where === "env") {
      return { env: await this.answer("passphrase-env", "Variable name", DEFAULT_PASSPHRASE_ENV, parseEnv) };
    }
    return { file: await this.answer("passphrase-file", "Passphrase file (created with a random passphrase if missing)", join(dir, DEFAULT_PASSPHRASE_FILE), (t) => resolve(t)) };
  }

  private async confirm(dir: string, a: Answers): Promise<boolean> {
    const rel = (p: string) => inDir(dir, p);
    this.out(
      `\nabout to create in ${dir}:\n` +
        `  ${CONFIG_FILE}: ${a.protocol}://${a.host}:${a.port}${a.baseURL}, data in ${a.dataDir}\n` +
        (a.protocol === "https" ? `  TLS: ${rel(a.cert!)}, ${rel(a.key!)}\n` : "") +
        `  chain: ${a.rpcUrl ? `${redactUrl(a.rpcUrl)}${a.chainId ? ` (chain ${a.chainId})` : ""}` : "the embedded local chain (a sandbox)"}\n` +
        `  authentication: ${a.auth === "public-key" ? rel(a.publicKey!) : a.auth}\n` +
        `  wallet passphrase: ${"env" in a.passphrase ? `the variable ${a.passphrase.env}` : rel(a.passphrase.file)}\n`,
    );
    const yes = await this.answerYesNo("Go ahead? (y or n)", "y");
    return yes;
  }

  private async answerYesNo(prompt: string, def: string): Promise<boolean> {
    for (;;) {
      const t = (await this.ask(prompt, def)).toLowerCase();
      if (t === "y" || t === "yes") return true;
      if (t === "n" || t === "no") return false;
    }
  }

  // ------------------------------------------------------------------------------- the chain

  /** The node answers, holds the contracts and has the expected chain id; its chain id. */
  private async checkNode(rpcUrl: string, contracts: ContractAddresses, expected: number | undefined): Promise<number | undefined> {
    let chainId: number;
    try {
      chainId = Number(BigInt(await rpcCall<string>(rpcUrl, "eth_chainId")));
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      this.io.stderr.write(`warning: ${e.message}; the configuration is written without checking the contracts\n`);
      return expected;
    }
    if (expected !== undefined && expected !== chainId) {
      throw new Error(`the node at ${redactUrl(rpcUrl)} is chain ${chainId}, but the contracts were deployed on chain ${expected}`);
    }
    for (const [name, address] of Object.entries(contracts)) {
      const code = await rpcCall<string>(rpcUrl, "eth_getCode", [address, "latest"]);
      if (!code || code === "0x") throw new Error(`the node at ${redactUrl(rpcUrl)} (chain ${chainId}) has no contract at ${address} (${name})`);
    }
    this.out(`chain: the node at ${redactUrl(rpcUrl)} answers (chain ${chainId}) and holds the contracts\n`);
    return chainId;
  }

  /**
   * Starts the embedded anvil once, so that the contracts are deployed now rather than at the
   * first start. Only before the first deployment: a gateway may be running on this state.
   */
  private async prepareLocalChain(config: LoadedConfig): Promise<void> {
    if (existsSync(join(chainDir(config), "deployment.json"))) {
      this.out(`chain: the embedded local chain, prepared earlier (${join(chainDir(config), "deployment.json")})\n`);
      return;
    }
    this.out("chain: the embedded local chain (a sandbox); starting it once to deploy the contracts\n");
    try {
      const chain = await connectChain(config, pino({ level: "silent" }), { onDeployProgress: deployProgress(this.io.stderr) });
      await chain.close();
      this.out(`chain: ready, its state in ${chainDir(config)}\n`);
    } catch (e) {
      this.io.stderr.write(`warning: the local chain could not be prepared (${(e as Error).message}); \`scr start\` tries again\n`);
    }
  }

  // ------------------------------------------------------------------------------- files

  private writeConfig(file: string, dir: string, a: Answers, force: boolean): void {
    const rel = (p: string) => inDir(dir, p);
    const json: ConfigInput = {
      protocol: a.protocol,
      baseURL: a.baseURL,
      dataDir: a.dataDir,
      sqliteDB: "db.sqlite3",
      httpServer: { host: a.host, port: a.port, ...(a.protocol === "https" ? { ssl: { serverCert: rel(a.cert!), serverKey: rel(a.key!) } } : {}) },
      log4js: { level: "info" },
      ...(a.rpcUrl ? { chain: { rpcUrl: a.rpcUrl, ...(a.chainId ? { chainId: a.chainId } : {}), contracts: a.contracts! } } : {}),
      wallet: { keystore: "wallet.json", ...("env" in a.passphrase ? { passphraseEnv: a.passphrase.env } : { passphraseFile: rel(a.passphrase.file) }) },
    };
    // A secret already there is a key: it is kept and used, unless --force.
    const secret = join(dir, DEFAULT_SECRET_FILE);
    if (a.auth === "secret" && existsSync(secret) && !force) {
      loadVerificationKey(secret);
      json.authentication = DEFAULT_SECRET_FILE;
    }
    parseConfig(json, `the configuration for ${file}`);
    writeFileAtomic(file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o640, overwrite: force });
    this.out(`wrote ${file}\n`);
  }

  /** A passphrase file named by the configuration is created (random, 0600) for a new wallet. */
  private ensurePassphraseFile(config: LoadedConfig, force: boolean): void {
    const paths = walletPaths(config);
    if (paths.passphraseFile === undefined) {
      if (!process.env[config.wallet.passphraseEnv] && (force || !existsSync(paths.keystore))) {
        throw new UsageError(`the wallet passphrase variable ${config.wallet.passphraseEnv} is not set: set it, or use --passphrase-file`);
      }
      return;
    }
    if (existsSync(paths.passphraseFile)) {
      this.out(`wallet passphrase: ${paths.passphraseFile} (kept)\n`);
      return;
    }
    if (existsSync(paths.keystore) && !force) return; // the wallet's own check reports it
    writeFileAtomic(paths.passphraseFile, randomBytes(32).toString("base64url"), { mode: 0o600, overwrite: false });
    this.out(`wallet passphrase: a random one written to ${paths.passphraseFile} (mode 0600): keep a copy somewhere safe\n`);
  }

  private async setUpAuth(configFile: string, dir: string, kind: AuthKind, publicKey: string | undefined, force: boolean): Promise<number> {
    if (kind === "none") {
      this.out("authentication: none; the gateway accepts every request, and listens only on loopback\n");
      return 0;
    }
    if (kind === "public-key") return authCommand(["set-public-key", publicKey!, "--config", configFile], this.io);
    const secret = join(dir, DEFAULT_SECRET_FILE);
    if (existsSync(secret) && !force) {
      this.out(`authentication: the shared secret in ${secret} exists; kept\n`);
      return 0;
    }
    if (existsSync(secret)) this.out(`moved the previous shared secret aside to ${moveAside(secret)}\n`);
    return authCommand(["set-secret", "--config", configFile, ...(existsSync(secret) ? ["--force"] : [])], this.io);
  }

  // ------------------------------------------------------------------------------- the end

  private nextSteps(configFile: string, config: LoadedConfig): void {
    const cfg = `--config ${shellQuote(configFile)}`;
    const address = readPublicKeystore(walletPaths(config).keystore).address;
    const host = LOOPBACK.test(config.httpServer.host) || isAnyAddress(config.httpServer.host) ? "127.0.0.1" : config.httpServer.host;
    const url = `${config.protocol}://${host.includes(":") ? `[${host}]` : host}:${config.httpServer.port}${config.baseURL === "/" ? "" : config.baseURL}/releases`;
    const env = config.wallet.passphraseFile === undefined ? `${config.wallet.passphraseEnv}=… ` : "";
    let auth = "";
    if (config.authentication) {
      const publicKey = config.authentication.toLowerCase().endsWith(".pem");
      auth = ` -H "Authorization: Bearer $(scr token ${cfg}${publicKey ? " --private-key <the callers' private key.pem>" : ""})"`;
    }
    const tls = config.protocol === "https" && config.httpServer.ssl ? ` --cacert ${shellQuote(resolveFrom(config.baseDir, config.httpServer.ssl.serverCert))}` : "";
    const register = config.chain.rpcUrl
      ? `  3. The registry administrator registers it, with the key that deployed the contracts:\n` +
        `       scr org register --config <their configuration.json> --key-file admin.key \\\n` +
        `         --name "<your organisation>" --vat <your VAT> --role forwarder \\\n` +
        `         --address ${address} --public-key-file <the encryption public key from step 2, as a .pem file>\n`
      : `  3. Nothing to register: on the embedded local chain the gateway registers itself as\n` +
        `     "Test entity 1" when it starts (a sandbox; for production, run scr init --rpc-url …)\n`;
    this.out(
      `\nDone. This organisation's address: ${address}\n\nNext:\n` +
        `  1. Start the gateway:\n       ${env}scr start ${cfg}\n` +
        `  2. Give the registry administrator the address and the encryption public key:\n       scr wallet show ${cfg}\n` +
        register +
        `  4. A first call:\n       curl -s${tls}${auth} ${url}\n` +
        `  5. Monitoring:\n       scr status ${cfg}\n`,
    );
  }
}

// ------------------------------------------------------------------------------- parsers
// Each returns the value or throws a message fit to follow the flag's name.

function nonEmpty(text: string, what = "a value"): string {
  if (!text.trim()) throw new Error(`${what} is required`);
  return text.trim();
}

function oneOf<T extends string>(text: string, values: readonly T[]): T {
  const t = text.trim().toLowerCase();
  if (!(values as readonly string[]).includes(t)) throw new Error(`expected ${values.join(" or ")}, not "${text}"`);
  return t as T;
}

function parseHost(text: string): string {
  const t = nonEmpty(text);
  if (isIP(t) || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(t)) return t;
  throw new Error(`"${text}" is not an IP address or a host name`);
}

function isAnyAddress(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) throw new Error(`a port is a whole number from 1 to 65535, not "${text}"`);
  return n;
}

function parseBaseUrl(text: string): string {
  const result = configSchema.shape.baseURL.safeParse(text.trim());
  if (!result.success) throw new Error(`"${text}" is not ${result.error.issues[0]?.message ?? "a base URL"}`);
  return result.data;
}

function parseRpcUrl(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new Error(`"${t}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`the node's JSON-RPC URL must be http:// or https://, not ${url.protocol}`);
  return t;
}

function parseAddress(text: string): string {
  const t = text.trim();
  if (!isAddress(t)) throw new Error(`"${text}" is not a 0x address`);
  return getAddress(t);
}

function parseEnvName(text: string): string {
  const t = text.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) throw new Error(`"${text}" is not an environment variable name`);
  return t;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseCert(file: string): string {
  try {
    new X509Certificate(readText(file));
  } catch (e) {
    throw new Error((e as Error).message.startsWith("cannot read") ? (e as Error).message : `${file} does not hold a PEM certificate`);
  }
  return file;
}

function parseServerKey(file: string, certFile: string): string {
  let ok: boolean;
  try {
    ok = new X509Certificate(readFileSync(certFile)).checkPrivateKey(createPrivateKey(readText(file)));
  } catch (e) {
    throw new Error((e as Error).message.startsWith("cannot read") ? (e as Error).message : `${file} does not hold a PEM private key`);
  }
  if (!ok) throw new Error(`${file} is not the private key of ${certFile}`);
  return file;
}

function parsePublicKey(file: string): string {
  if (!/\.pem$/i.test(file)) throw new Error(`${file} must be a .pem file`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file} does not exist`);
  loadVerificationKey(file); // throws the reason (not a public key, RSA too short, …)
  return file;
}

/** What `scr chain deploy` printed ({chain: {rpcUrl, chainId, contracts}}), or just the addresses. */
function readContractsFile(file: string): { rpcUrl?: string; chainId?: number; contracts: ContractAddresses } {
  let json: unknown;
  try {
    json = JSON.parse(readText(file));
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `${file} is not JSON` : (e as Error).message);
  }
  const obj = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const chain = obj(obj(json)?.["chain"]) ?? obj(json) ?? {};
  const addresses = obj(chain["contracts"]) ?? chain;
  const pick = (name: keyof ContractAddresses): string => {
    const v = addresses[name];
    if (typeof v !== "string" || !isAddress(v)) throw new Error(`${file} has no address for ${name}`);
    return getAddress(v);
  };
  const contracts = { organizationRegistry: pick("organizationRegistry"), connections: pick("connections"), releaseRegistry: pick("releaseRegistry") };
  const rpcUrl = typeof chain["rpcUrl"] === "string" ? chain["rpcUrl"] : undefined;
  const chainId = typeof chain["chainId"] === "number" ? chain["chainId"] : undefined;
  return { contracts, ...(rpcUrl ? { rpcUrl } : {}), ...(chainId ? { chainId } : {}) };
}

/** How a path is written in the configuration: relative to its folder when inside it. */
function inDir(dir: string, abs: string): string {
  const rel = relative(dir, abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
