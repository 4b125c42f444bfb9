/**
 * A whole gateway in its own process, for crash tests. Environment:
 *   CONFIG   the parsed configuration, as JSON
 *   DIR      the folder it is relative to (its data directory)
 * Prints "listening <url>" once it serves; SIGTERM stops it cleanly, SIGKILL does not.
 */
import pino from "pino";
import { parseConfig } from "../../src/config/load.js";
import { startGateway } from "../../src/main.js";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const config = { ...parseConfig(JSON.parse(env("CONFIG"))), baseDir: env("DIR"), embedded: true };
const gw = await startGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
process.stdout.write(`listening ${gw.url}\n`);
process.once("SIGTERM", () => {
  void gw.stop().then(() => process.exit(0));
});
