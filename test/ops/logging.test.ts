/**
 * The real start-up path (startGateway with the log4js file appender at trace) on a test
 * chain: requests over REST, Connect and gRPC carry tokens, API keys and
 * secrets in bodies; the log file must name every request id and none of the secrets.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConnectionService } from "../../gen/scr/v1/connection_service_pb.js";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import { generateApiKey, hashApiKey } from "../../src/auth/apikeys.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger, requestLogContext } from "../../src/logging/logger.js";
import { startGateway, type Gateway } from "../../src/main.js";
import type { Identity } from "../../src/ports/identity.js";
import { hmacSetup, now, token } from "../auth/tokens.js";
import { startNetwork, type TestNetwork } from "../support/network.js";

const PIN = "73914PINVALUE";
const SECRET = "S3cr3t-body-value-42";
const API_KEY = generateApiKey();
const key = hmacSetup();
/** Every token sent, valid or not: none may reach the log. */
const tokens: string[] = [];
const freshToken = () => {
  const t = token(key, { sub: "erp", iat: now(), exp: now() + 120, jti: `jti-${tokens.length}` });
  tokens.push(t);
  return t;
};

let net: TestNetwork;
let dir: string;
let gw: Gateway;
let logFile: string;

beforeAll(async () => {
  net = await startNetwork();
  dir = mkdtempSync(join(tmpdir(), "scr-logging-"));
  writeFileSync(join(dir, key.file), key.contents);
  const config = {
    ...parseConfig({
      dataDir: dir,
      httpServer: { port: 0 },
      authentication: key.file,
      auth: { apiKeys: [{ name: "erp-key", hash: await hashApiKey(API_KEY, { N: 1024, r: 8, p: 1 }), roles: ["read", "write"] }] },
      log4js: { level: "trace", file: { filename: "logs/gateway.log", maxLogSize: "10M", backups: 2 } },
      chain: { rpcUrl: net.anvil.rpcUrl, contracts: net.addresses },
    }),
    baseDir: dir,
    embedded: true,
  };
  logFile = join(dir, "logs", "gateway.log");
  gw = await startGateway(config); // no logger given: the configured one
  await net.provider.send("anvil_setBalance", [gw.ctx.chain!.wallet.address, "0x3635C9ADC5DEA00000"]);
  await net.register(gw, "Logging Forwarder", "BE0000000777", Role.Forwarder);
}, 120_000);
afterAll(async () => {
  await gw?.stop();
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const base = () => `${gw.url}/tmining/api/v1`;

async function rest(id: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(base() + path, {
    method,
    headers: { "x-request-id": id, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body,
  });
  await res.arrayBuffer();
  expect(res.headers.get("x-request-id")).toBe(id);
  return res.status;
}

/** The log's lines, once request `lastId` is logged as completed (the file is written asynchronously). */
async function logLines(lastId: string): Promise<string[]> {
  const done = new RegExp(`"reqId":"${lastId}".*"msg":"request completed"`);
  for (let i = 0; i < 200; i++) {
    const text = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    if (done.test(text) && text.endsWith("\n")) return text.trimEnd().split("\n");
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no line with reqId ${lastId} in ${logFile}`);
}

it("every request's lines carry its id; no token, API key, pincode or secret is written", async () => {
  const bearer = () => ({ authorization: `Bearer ${freshToken()}` });
  const ids: string[] = [];
  const id = (name: string) => {
    ids.push(`log-${name}`);
    return `log-${name}`;
  };

  expect(await rest(id("rest-bearer"), "GET", "/releases", bearer())).toBe(200);
  expect(await rest(id("rest-api-key"), "GET", "/releases", { "x-api-key": API_KEY })).toBe(200);
  const secrets = JSON.stringify({ name: "Transporter B", vat: "NL000000102B01", contactEmail: "ops@b.example", pincode: PIN, secret: SECRET });
  expect(await rest(id("rest-write"), "POST", "/invitations", bearer(), secrets)).toBe(200);
  const address = "0x00000000000000000000000000000000000000aA";
  expect(await rest(id("rest-body"), "PUT", `/releases/${address}/transfer`, bearer(), JSON.stringify({ address, pincode: PIN, secret: SECRET }))).toBeLessThan(500);
  // A malformed body whose parse error would quote it.
  expect(await rest(id("rest-bad-json"), "POST", "/invitations", bearer(), `{"name": "x", "secret": ${SECRET} }`)).toBe(400);
  const forged = token({ ...key, signRaw: () => "forged-signature-value" }, { sub: "erp", iat: now(), exp: now() + 60 });
  tokens.push(forged);
  expect(await rest(id("rest-forged"), "GET", "/releases", { authorization: `Bearer ${forged}` })).toBe(401);
  expect(await rest(id("rest-wrong-key"), "GET", "/releases", { "x-api-key": `${API_KEY}x` })).toBe(401);

  const connect = createClient(ReleaseService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
  await connect.listReleases({}, { headers: { ...bearer(), "x-request-id": id("connect") } });
  const grpc = createClient(ConnectionService, createGrpcTransport({ baseUrl: gw.url }));
  await grpc.listInvitations({}, { headers: { "x-api-key": API_KEY, "x-request-id": id("grpc") } });
  await expect(
    grpc.createInvitation({ name: "", vat: PIN, contactEmail: SECRET }, { headers: { ...bearer(), "x-request-id": id("grpc-invalid") } }),
  ).rejects.toThrow();

  // A fault inside a handler is logged by the RPC error interceptor and the REST error
  // handler, with the application's logger: the request id must still be on those lines.
  const identity = gw.ctx.identity;
  gw.ctx.identity = { self: () => { throw new Error("the organisation registry is unreachable"); } } as Identity;
  try {
    await expect(connect.listReleases({}, { headers: { ...bearer(), "x-request-id": id("rpc-fault") } })).rejects.toThrow(/internal/);
    expect(await rest(id("rest-fault"), "GET", "/releases", bearer())).toBe(500);
  } finally {
    gw.ctx.identity = identity;
  }

  const lines = await logLines("log-rest-fault");
  const text = lines.join("\n");
  // Not even a part of one: a parse error must not quote the body.
  for (const secret of [...tokens, ...tokens.map((t) => t.split(".")[2]!), API_KEY, PIN.slice(0, 6), SECRET.slice(0, 6), String(key.contents)]) {
    expect(text, "a secret reached the log").not.toContain(secret);
  }
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const reqId of ids) {
    expect(records.some((r) => r.reqId === reqId), `a line with reqId ${reqId}`).toBe(true);
  }
  // Lines about a request (Fastify's, the error handlers', the interceptor's) all name it.
  const aboutRequests = records.filter((r) => r.req || r.res || r.msg === "rpc fault" || r.msg === "request failed");
  expect(aboutRequests.length).toBeGreaterThan(ids.length);
  for (const r of aboutRequests) expect(r.reqId, JSON.stringify(r)).toEqual(expect.any(String));
  expect(records.find((r) => r.msg === "rpc fault")?.reqId).toBe("log-rpc-fault");
  expect(records.find((r) => r.msg === "request failed")?.reqId).toBe("log-rest-fault");
  // Lines outside any request (start-up, the pipeline's own rounds) carry none.
  expect(records.find((r) => r.msg === "scr-gateway listening")?.reqId).toBeUndefined();
  // Trace and debug lines were written: the level was in force.
  expect(records.some((r) => (r.level as number) <= 20)).toBe(true);
});

it("the logger redacts secret keys at any of three levels and secrets by their shape in any text", async () => {
  const logDir = mkdtempSync(join(tmpdir(), "scr-redact-"));
  try {
    const log = createLogger({ log4js: { level: "trace", file: { filename: "r.log" } }, baseDir: logDir });
    const jwt = freshToken();
    requestLogContext.run({ reqId: "redact-1" }, () => {
      log.info({ pincode: PIN, call: { secret: SECRET, headers: { authorization: `Bearer ${jwt}`, "x-api-key": API_KEY } } }, "keys");
      log.warn({ err: new Error(`refused ${jwt} and ${API_KEY}`) }, `a message quoting ${jwt}`);
      log.child({ reqId: "bound" }).info("bound by a child");
    });
    log.info("outside a request");
    const file = join(logDir, "r.log");
    let text = "";
    for (let i = 0; i < 200 && text.split("\n").length < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = existsSync(file) ? readFileSync(file, "utf8") : "";
    }
    const [keys, quoted, bound, outside] = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const secret of [PIN, SECRET, jwt, API_KEY]) expect(text).not.toContain(secret);
    expect(keys).toMatchObject({ reqId: "redact-1", pincode: "[redacted]", call: { secret: "[redacted]", headers: { authorization: "[redacted]", "x-api-key": "[redacted]" } } });
    expect(quoted!.msg).toBe("a message quoting [redacted]");
    expect(quoted!.reqId).toBe("redact-1");
    expect(text.match(/"reqId"/g)).toHaveLength(3); // the child's own binding is not repeated
    expect(bound!.reqId).toBe("bound");
    expect(outside!.reqId).toBeUndefined();
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
});
