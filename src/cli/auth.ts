import { createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { writeFileAtomic } from "../adapters/wallet/keystore.js";
import { generateApiKey, hashApiKey } from "../auth/apikeys.js";
import { loadVerificationKey, secretFrom, type VerificationKey } from "../auth/keys.js";
import type { RoleName } from "../auth/verifier.js";
import { loadConfig, parseConfig, resolveFrom } from "../config/load.js";
import { ROLE_NAMES } from "../config/schema.js";
import type { CommandIo } from "./wallet.js";

export const AUTH_USAGE = `usage: scr auth <command> --config <file> [options]

commands:
  set-secret [--secret-file <out>] [--from <file>] [--force]
      write a new 256-bit shared secret (or import one with --from) without a trailing
      new line, mode 0600 (default <config folder>/auth.txt), and set "authentication"
  set-public-key <pem>
      check a PEM public key (RSA >= 2048, EC P-256/384/521, Ed25519) and set "authentication"
  add-client <name> --roles read,write [--key <file>]
      add an internal system to auth.clients; without --key an HS256 secret is generated
      into <config folder>/client-<name>.txt. Its tokens carry "kid": "<name>"
  add-api-key <name> --roles read
      print a new API key ONCE (sent as X-API-Key) and store only its scrypt hash

  scr token [--config <file>] [--client <name>] [--ttl 30] [--private-key <pem file>]
      print a token for the configured key (or the client's); a public-key setup needs
      --private-key
`;

class UsageError extends Error {}

const isParseArgsError = (e: unknown) => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
};

async function run(prefix: string, io: CommandIo, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (e) {
    if (e instanceof UsageError || isParseArgsError(e)) {
      io.stderr.write(`${prefix}: ${(e as Error).message}\n\n${AUTH_USAGE}`);
      return 2;
    }
    io.stderr.write(`${prefix}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** `scr auth ...`; resolves to the exit code (0 ok, 1 runtime error, 2 usage). */
export async function authCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  const out = (s: string) => io.stdout.write(s);
  switch (sub) {
    case "set-secret":
      return run("scr auth set-secret", io, () => setSecret(rest, out));
    case "set-public-key":
      return run("scr auth set-public-key", io, () => setPublicKey(rest, out));
    case "add-client":
      return run("scr auth add-client", io, () => addClient(rest, out));
    case "add-api-key":
      return run("scr auth add-api-key", io, () => addApiKey(rest, out));
    case "help":
    case "--help":
    case "-h":
      out(AUTH_USAGE);
      return 0;
    case undefined:
      io.stderr.write(AUTH_USAGE);
      return 2;
    default:
      io.stderr.write(`scr auth: unknown command "${sub}"\n\n${AUTH_USAGE}`);
      return 2;
  }
}

/** The configuration file as JSON, to be changed and written back with its other keys. */
interface RawConfig {
  file: string;
  dir: string;
  json: Record<string, unknown>;
}

function openConfig(file: string | undefined): RawConfig {
  if (!file) throw new UsageError("--config <configuration.json> is required");
  if (!existsSync(file)) throw new Error(`configuration file ${file} does not exist`);
  // Validates it as the gateway would (names every offending key).
  loadConfig(file);
  const json = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`${file} does not hold a JSON object`);
  return { file, dir: dirname(resolve(file)), json: json as Record<string, unknown> };
}

function saveConfig(cfg: RawConfig): void {
  parseConfig(cfg.json, `the new configuration for ${cfg.file}`);
  const mode = statSync(cfg.file).mode & 0o777;
  writeFileAtomic(cfg.file, `${JSON.stringify(cfg.json, null, 2)}\n`, { mode, overwrite: true });
}

function authSection(cfg: RawConfig): Record<string, unknown> {
  const auth = (cfg.json["auth"] ??= {}) as Record<string, unknown>;
  if (typeof auth !== "object" || Array.isArray(auth)) throw new Error(`"auth" in ${cfg.file} is not an object`);
  return auth;
}

function secretEncoding(cfg: RawConfig): "utf8" | "base64" {
  return (authSection(cfg)["secretEncoding"] as "utf8" | "base64" | undefined) ?? "utf8";
}

/** How a file is named in the configuration: relative to its folder when inside it. */
function configPath(cfg: RawConfig, abs: string): string {
  const rel = relative(cfg.dir, abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

function writeSecret(file: string, encoding: "utf8" | "base64", force: boolean, data?: Buffer): void {
  if (existsSync(file) && !force) throw new Error(`${file} already exists (--force replaces it)`);
  const bytes = data ?? Buffer.from(encoding === "base64" ? randomBytes(32).toString("base64") : randomBytes(32).toString("hex"));
  secretFrom(bytes, file, encoding);
  writeFileAtomic(file, bytes, { mode: 0o600, overwrite: force });
}

function parseRoles(text: string | undefined): RoleName[] {
  if (!text) throw new UsageError("--roles read,write,admin is required");
  const roles = [...new Set(text.split(",").map((r) => r.trim()).filter(Boolean))];
  const bad = roles.filter((r) => !(ROLE_NAMES as readonly string[]).includes(r));
  if (bad.length) throw new UsageError(`unknown role ${bad.join(", ")}; the roles are ${ROLE_NAMES.join(", ")}`);
  if (roles.length === 0) throw new UsageError("at least one role is required");
  return roles as RoleName[];
}

function oneName(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}`);
  return positionals[0]!;
}

async function setSecret(argv: string[], out: (s: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { config: { type: "string", short: "c" }, "secret-file": { type: "string" }, from: { type: "string" }, force: { type: "boolean" } },
  });
  const cfg = openConfig(values.config);
  const target = values["secret-file"] ? resolve(values["secret-file"]) : resolve(cfg.dir, "auth.txt");
  let data: Buffer | undefined;
  if (values.from) {
    data = readFileSync(values.from);
    // Written without the new line an editor or `echo` adds.
    let end = data.length;
    while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
    data = data.subarray(0, end);
  }
  writeSecret(target, secretEncoding(cfg), values.force ?? false, data);
  cfg.json["authentication"] = configPath(cfg, target);
  saveConfig(cfg);
  out(`shared secret written to ${target} (mode 0600); "authentication" is set in ${cfg.file}\n`);
}

async function setPublicKey(argv: string[], out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { config: { type: "string", short: "c" } } });
  const pem = oneName(positionals, "PEM public key file");
  if (!/\.pem$/i.test(pem)) throw new UsageError(`${pem} must be a .pem file`);
  const cfg = openConfig(values.config);
  const key = loadVerificationKey(resolve(pem));
  cfg.json["authentication"] = configPath(cfg, resolve(pem));
  saveConfig(cfg);
  out(`"authentication" is set to ${pem} (${key.algorithms.join(", ")}) in ${cfg.file}\n`);
}

async function addClient(argv: string[], out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { config: { type: "string", short: "c" }, roles: { type: "string" }, key: { type: "string" } },
  });
  const name = oneName(positionals, "client name");
  const roles = parseRoles(values.roles);
  const cfg = openConfig(values.config);
  const auth = authSection(cfg);
  const clients = ((auth["clients"] ??= []) as { name: string }[]);
  if (clients.some((c) => c.name === name)) throw new Error(`client ${name} already exists`);
  let keyFile: string;
  if (values.key) {
    keyFile = resolve(values.key);
    loadVerificationKey(keyFile, { secretEncoding: secretEncoding(cfg) });
  } else {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`client name ${name}: letters, digits, . _ - only`);
    keyFile = resolve(cfg.dir, `client-${name}.txt`);
    writeSecret(keyFile, secretEncoding(cfg), false);
  }
  clients.push({ name, key: configPath(cfg, keyFile), roles } as { name: string });
  saveConfig(cfg);
  out(
    `client ${name} (${roles.join(", ")}) added to ${cfg.file}; its key is ${keyFile}` +
      `${values.key ? "" : " (a new HS256 secret: give it to the client)"}; its tokens need "kid": "${name}"\n`,
  );
}

async function addApiKey(argv: string[], out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { config: { type: "string", short: "c" }, roles: { type: "string" } },
  });
  const name = oneName(positionals, "API key name");
  const roles = parseRoles(values.roles);
  const cfg = openConfig(values.config);
  const auth = authSection(cfg);
  const keys = ((auth["apiKeys"] ??= []) as { name: string }[]);
  if (keys.some((k) => k.name === name)) throw new Error(`API key ${name} already exists`);
  const key = generateApiKey();
  keys.push({ name, hash: await hashApiKey(key), roles } as { name: string });
  saveConfig(cfg);
  // The key itself is shown once and stored nowhere.
  out(`${key}\n`);
}

/** `scr token`: prints a token the configured gateway accepts. */
export async function tokenCommand(argv: string[], io: CommandIo): Promise<number> {
  return run("scr token", io, async () => {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        client: { type: "string" },
        ttl: { type: "string" },
        "private-key": { type: "string" },
      },
    });
    if (values.config && !existsSync(values.config)) throw new Error(`configuration file ${values.config} does not exist`);
    const config = loadConfig(values.config);
    const max = config.auth.maxTokenLifetimeSeconds;
    const ttl = values.ttl === undefined ? Math.min(30, max) : Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`--ttl must be a whole number of seconds, not ${values.ttl}`);
    if (ttl > max) throw new UsageError(`--ttl ${ttl} exceeds auth.maxTokenLifetimeSeconds (${max})`);

    let file: string;
    if (values.client) {
      const client = config.auth.clients.find((c) => c.name === values.client);
      if (!client) throw new Error(`no client ${values.client} in auth.clients`);
      file = client.key;
    } else {
      if (!config.authentication) throw new Error('no "authentication" key is configured (scr auth set-secret, or --client <name>)');
      file = config.authentication;
    }
    const key = loadVerificationKey(resolveFrom(config.baseDir, file), { secretEncoding: config.auth.secretEncoding });
    const { signingKey, alg } = signer(key, values["private-key"]);
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg, typ: "JWT", ...(values.client ? { kid: values.client } : {}) })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(signingKey);
    io.stdout.write(`${jwt}\n`);
  });
}

function signer(key: VerificationKey, privateKeyFile: string | undefined): { signingKey: KeyObject | Uint8Array; alg: string } {
  if (key.kind === "secret") {
    if (privateKeyFile) throw new UsageError("--private-key is for a public-key setup; this key is a shared secret");
    return { signingKey: key.key, alg: "HS256" };
  }
  if (!privateKeyFile) throw new UsageError("the configured key is a public key: --private-key <pem file> is required");
  let priv: KeyObject;
  try {
    priv = createPrivateKey(readFileSync(privateKeyFile));
  } catch (e) {
    throw new Error(`${privateKeyFile} does not hold a PEM private key: ${(e as Error).message}`);
  }
  const der = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  if (!der(createPublicKey(priv)).equals(der(key.key))) {
    throw new Error(`${privateKeyFile} does not match the configured public key`);
  }
  return { signingKey: priv, alg: key.algorithms[0]! };
}
