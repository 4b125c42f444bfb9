import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import pino, { type Logger } from "pino";
import { createStream } from "rotating-file-stream";
import type { Config } from "../config/schema.js";
import { resolveFrom } from "../config/load.js";

/** Whatever could carry a secret: tokens, API keys, pins, keys, passphrases. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "req.headers.cookie",
  "*.authorization",
  "*.pincode",
  "*.pin",
  "*.secret",
  "*.passphrase",
  "*.privateKey",
  "*.token",
];

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
 * otherwise to standard output. Secrets are redacted everywhere.
 */
export function createLogger(config: Pick<Config, "log4js"> & { baseDir: string }, name = "scr-gateway"): Logger {
  const { level, file } = config.log4js;
  const options = {
    name,
    level: level === "off" ? "silent" : level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
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
