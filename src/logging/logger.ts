import { AsyncLocalStorage } from "node:async_hooks";
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import pino, { type Logger } from "pino";
import { createStream } from "rotating-file-stream";
import type { Config } from "../config/schema.js";
import { resolveFrom } from "../config/load.js";

/** Keys whose values are secrets wherever they appear: tokens, API keys, pins, keys, passphrases. */
export const SECRET_KEYS = [
  "authorization",
  "x-api-key",
  "apiKey",
  "cookie",
  "pincode",
  "pin",
  "secret",
  "passphrase",
  "password",
  "privateKey",
  "token",
];

/** Each secret key at the top of a log line and two levels down (e.g. `req.headers.authorization`). */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
  return [k.startsWith(".") ? key : k, `*${k}`, `*.*${k}`];
});

/**
 * Secrets by their shape, scrubbed from the text of every line (an error message may quote
 * what the client sent): JWTs and this gateway's API keys (`scr_` + 43 base64url characters).
 */
const SECRET_TEXT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*|scr_[\w-]{40,}/g;

/**
 * The request a log line belongs to. The transport enters it for each request; every line
 * logged while handling it (services, pipeline calls, errors) then carries its `reqId`.
 */
export const requestLogContext = new AsyncLocalStorage<{ reqId: string }>();

/** Adds the request id, unless the logger already binds one (Fastify's request loggers). */
function requestIdMixin(_obj: object, _level: number, logger: Logger): { reqId?: string } {
  const store = requestLogContext.getStore();
  if (!store) return {};
  const bindings = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym];
  return bindings?.includes('"reqId":') ? {} : { reqId: store.reqId };
}

/** log4js sizes ("100M", "10K", 1048576) in the form rotating-file-stream takes. */
export function toRotationSize(size: number | string): string {
  if (typeof size === "number") return `${Math.max(1, Math.ceil(size / 1024))}K`;
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(size.trim());
  if (!m) throw new Error(`invalid size ${size}`);
  const unit = (m[2] ?? "").toUpperCase();
  if (unit === "") return `${Math.max(1, Math.ceil(Number(m[1]) / 1024))}K`;
  return `${Math.ceil(Number(m[1]))}${unit}`;
}

/**
 * pino, configured from the spec's log4js section. With a `file` appender the log goes to
 * that file, rotated by size with `backups` old files, gzip-compressed when `compress`;
 * otherwise to standard output. Secrets are redacted everywhere; lines logged while a request
 * is handled carry its `reqId`.
 */
export function createLogger(config: Pick<Config, "log4js"> & { baseDir: string }, name = "scr-gateway"): Logger {
  const { level, file } = config.log4js;
  const options = {
    name,
    level: level === "off" ? "silent" : level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    mixin: requestIdMixin,
    hooks: { streamWrite: (line: string) => line.replace(SECRET_TEXT, "[redacted]") },
  };
  if (!file) return pino(options);
  const path = resolveFrom(config.baseDir, file.filename);
  mkdirSync(dirname(path), { recursive: true });
  const stream = createStream(path.slice(dirname(path).length + 1), {
    path: dirname(path),
    size: file.maxLogSize === undefined ? "10M" : toRotationSize(file.maxLogSize),
    maxFiles: file.backups ?? 5,
    compress: file.compress ? "gzip" : false,
  });
  return pino(options, stream);
}
