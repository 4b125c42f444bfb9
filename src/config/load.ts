import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { configSchema, type Config, type ConfigInput } from "./schema.js";

/** A validated configuration, where it came from, and whether it is the embedded default. */
export type LoadedConfig = Config & { baseDir: string; embedded?: boolean };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Validates a configuration object; the error message names every offending key. */
export function parseConfig(input: unknown, source = "configuration"): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${describeIssue(issue)}`);
  throw new ConfigError(`${source} is invalid:\n${lines.join("\n")}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `unknown key ${keys.map((k) => `"${k}"`).join(", ")}`;
  }
  return `"${path || "(root)"}": ${issue.message}`;
}

/**
 * Reads configuration.json. Relative paths inside it (dataDir, certificates, the
 * authentication file) are resolved against the file's folder, as the original API does.
 * Without a file the embedded defaults apply, relative to the working directory.
 */
export function loadConfig(file?: string): LoadedConfig {
  if (!file) return { ...parseConfig({}), baseDir: process.cwd(), embedded: true };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return { ...parseConfig(json, `configuration file ${file}`), baseDir: dirname(resolve(file)), embedded: false };
}

export function resolveFrom(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

export type { Config, ConfigInput };
