import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load.js";
import { toRotationSize } from "../../src/logging/logger.js";

const run = promisify(execFile);
const scr = fileURLToPath(new URL("../../src/cli/scr.js", import.meta.url));

describe("configuration.json", () => {
  it("applies the embedded defaults: SQLite in ./data, port 5000 on 127.0.0.1", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      protocol: "http",
      baseURL: "/tmining/api/v1",
      sqliteDB: "db.sqlite3",
      dataDir: "./data",
      subscriptionAuthTokenInBody: false,
      httpServer: { host: "127.0.0.1", port: 5000 },
    });
    expect(c.authentication).toBeUndefined();
  });

  it("accepts the documented keys, including the spec's log4js file appender as printed", () => {
    const c = parseConfig({
      protocol: "https",
      baseURL: "/tmining/api/v1",
      sqliteDB: "db.sqlite3",
      authentication: "publicKey.pem",
      subscriptionAuthTokenInBody: true,
      httpServer: { port: 4431, ssl: { serverCert: "certificates/server-cert.pem", serverKey: "certificates/server-key.pem" } },
      log4js: {
        level: "debug",
        file: {
          type: "dateFile",
          filename: "gateway.log",
          compress: true,
          maxLogSize: "100M",
          backups: 9,
          layout: { type: "pattern", pattern: "%[%d %p [%f{2}:%l]%] %m%n" },
        },
      },
    });
    expect(c.httpServer.ssl?.serverCert).toBe("certificates/server-cert.pem");
    expect(c.log4js.file?.backups).toBe(9);
  });

  it.each([
    [{ protocl: "http" }, /unknown key "protocl"/],
    [{ httpServer: { prot: 1 } }, /unknown key "httpServer.prot"/],
    [{ httpServer: { port: 70000 } }, /"httpServer.port"/],
    [{ protocol: "ftp" }, /"protocol"/],
    [{ log4js: { level: "verbose" } }, /"log4js.level"/],
    [{ log4js: { file: { filename: "x.log", maxLogSize: "lots" } } }, /"log4js.file.maxLogSize"/],
    [{ baseURL: "tmining/" }, /"baseURL"/],
    [{ subscriptionAuthTokenInBody: "true" }, /"subscriptionAuthTokenInBody"/],
  ])("refuses %j naming the key", (input, message) => {
    expect(() => parseConfig(input)).toThrowError(ConfigError);
    expect(() => parseConfig(input)).toThrowError(message);
  });

  it("reports a file that is not JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "scr-cfg-"));
    writeFileSync(join(dir, "configuration.json"), "{ protocol: http }");
    expect(() => loadConfig(join(dir, "configuration.json"))).toThrowError(/is not valid JSON/);
  });

  it("maps log4js sizes onto the rotating stream", () => {
    expect(toRotationSize("100M")).toBe("100M");
    expect(toRotationSize("10K")).toBe("10K");
    expect(toRotationSize(2048)).toBe("2K");
    expect(toRotationSize("1G")).toBe("1G");
  });

  it("`scr start --config` stops with a message naming the bad key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scr-cfg-"));
    const file = join(dir, "configuration.json");
    writeFileSync(file, JSON.stringify({ httpServer: { port: 5000, sssl: {} } }));
    const err = await run(process.execPath, [scr, "start", "--config", file]).catch((e) => e);
    expect(err.code).toBe(78);
    expect(err.stderr).toMatch(/unknown key "httpServer.sssl"/);
  });
});
