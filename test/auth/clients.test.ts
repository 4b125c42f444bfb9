import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { SubscriptionService } from "../../gen/scr/v1/subscription_service_pb.js";
import { hashApiKey } from "../../src/auth/apikeys.js";
import { authCommand, tokenCommand } from "../../src/cli/auth.js";
import type { ConfigInput } from "../../src/config/load.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";
import { b64u, fresh } from "./tokens.js";

const DEFAULT_SECRET = "the-default-shared-secret-of-32-bytes-or-more";
const READER_SECRET = "the-reader-shared-secret-of-32-bytes-or-more!";
const WRITER_SECRET = "the-writer-shared-secret-of-32-bytes-or-more!";
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const READER_API_KEY = "scr_reader-api-key-for-the-tests-0123456789";
const ADMIN_API_KEY = "scr_admin-api-key-for-the-tests-0123456789";

function hsToken(secret: string, payload: unknown, kid?: string): string {
  const input = `${b64u({ alg: "HS256", typ: "JWT", ...(kid === undefined ? {} : { kid }) })}.${b64u(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

function esToken(payload: unknown, kid: string): string {
  const input = `${b64u({ alg: "ES256", typ: "JWT", kid })}.${b64u(payload)}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key: ec.privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

type Creds = { bearer?: string; apiKey?: string };
const headersOf = (c: Creds): Record<string, string> => ({
  ...(c.bearer ? { authorization: `Bearer ${c.bearer}` } : {}),
  ...(c.apiKey ? { "x-api-key": c.apiKey } : {}),
});

async function rest(gw: TestGateway, path: string, c: Creds) {
  const res = await fetch(`${gw.rest}${path}`, { headers: headersOf(c) });
  return { status: res.status, body: (await res.json()) as { code: number; description: string } };
}

async function grpc(gw: TestGateway, what: "releases" | "subscriptions", c: Creds): Promise<ConnectError | undefined> {
  const transport = createGrpcTransport({ baseUrl: gw.url });
  try {
    if (what === "releases") await createClient(ReleaseService, transport).listReleases({}, { headers: headersOf(c) });
    else await createClient(SubscriptionService, transport).listSubscriptions({}, { headers: headersOf(c) });
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

describe("several clients and API keys", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const config: ConfigInput = {
      authentication: "default.txt",
      auth: {
        clients: [
          { name: "reader", key: "reader.txt", roles: ["read"] },
          { name: "writer", key: "writer.txt", roles: ["read", "write"] },
          { name: "ops", key: "ops.pem", roles: ["read", "write", "admin"] },
        ],
        apiKeys: [
          { name: "reader-key", hash: await hashApiKey(READER_API_KEY, { N: 1024, r: 8, p: 1 }), roles: ["read"] },
          { name: "admin-key", hash: await hashApiKey(ADMIN_API_KEY, { N: 1024, r: 8, p: 1 }), roles: ["read", "admin"] },
        ],
      },
    };
    gw = await startTestGateway(SPEC_SELF, config, undefined, {
      "default.txt": DEFAULT_SECRET,
      "reader.txt": READER_SECRET,
      "writer.txt": WRITER_SECRET,
      "ops.pem": ec.publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
  });
  afterAll(() => gw.stop());

  it("a read-only client reads over REST and gRPC, and is refused an admin method with 403 / permission_denied", async () => {
    expect((await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh(), "reader") })).status).toBe(200);
    expect(await grpc(gw, "releases", { bearer: hsToken(READER_SECRET, fresh(), "reader") })).toBeUndefined();
    const denied = await rest(gw, "/subscriptions", { bearer: hsToken(READER_SECRET, fresh(), "reader") });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 4 });
    const err = await grpc(gw, "subscriptions", { bearer: hsToken(READER_SECRET, fresh(), "reader") });
    expect(err?.code).toBe(Code.PermissionDenied);
  });

  it("an admin client passes the role check (the method itself is not implemented yet)", async () => {
    const r = await rest(gw, "/subscriptions", { bearer: esToken(fresh(), "ops") });
    expect([401, 403]).not.toContain(r.status);
    const err = await grpc(gw, "subscriptions", { bearer: esToken(fresh(), "ops") });
    expect([Code.Unauthenticated, Code.PermissionDenied]).not.toContain(err?.code);
  });

  it("a roles claim narrows the client's roles and never widens them", async () => {
    const narrowed = await rest(gw, "/subscriptions", { bearer: esToken(fresh({ roles: ["read"] }), "ops") });
    expect(narrowed.status).toBe(403);
    const widened = await rest(gw, "/subscriptions", { bearer: hsToken(READER_SECRET, fresh({ roles: ["read", "admin"] }), "reader") });
    expect(widened.status).toBe(403);
    expect((await rest(gw, "/releases", { bearer: esToken(fresh({ roles: ["read"] }), "ops") })).status).toBe(200);
  });

  it("a token without kid uses the spec's authentication key, with every role", async () => {
    expect((await rest(gw, "/releases", { bearer: hsToken(DEFAULT_SECRET, fresh()) })).status).toBe(200);
    const admin = await rest(gw, "/subscriptions", { bearer: hsToken(DEFAULT_SECRET, fresh()) });
    expect([401, 403]).not.toContain(admin.status);
  });

  it("an unknown kid is refused with 401 unknown key id (REST and gRPC)", async () => {
    const r = await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh(), "nobody") });
    expect(r).toEqual({ status: 401, body: { code: 3, description: "unknown key id" } });
    const err = await grpc(gw, "releases", { bearer: hsToken(READER_SECRET, fresh(), "nobody") });
    expect(err?.code).toBe(Code.Unauthenticated);
    expect(err?.rawMessage).toBe("unknown key id");
  });

  it("a token signed with one client's key but naming another is refused", async () => {
    const asWriter = await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh(), "writer") });
    expect(asWriter).toEqual({ status: 401, body: { code: 3, description: "bad signature" } });
    const asOps = await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh(), "ops") });
    expect(asOps.status).toBe(401);
    const asDefault = await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh()) });
    expect(asDefault.status).toBe(401);
    expect(await grpc(gw, "releases", { bearer: hsToken(WRITER_SECRET, fresh(), "reader") })).toMatchObject({ code: Code.Unauthenticated });
  });

  it("API keys: accepted (more than once, REST and gRPC), wrong key 401, missing role 403", async () => {
    expect((await rest(gw, "/releases", { apiKey: READER_API_KEY })).status).toBe(200);
    expect((await rest(gw, "/releases", { apiKey: READER_API_KEY })).status).toBe(200);
    expect(await grpc(gw, "releases", { apiKey: READER_API_KEY })).toBeUndefined();
    expect(await rest(gw, "/releases", { apiKey: `${READER_API_KEY}x` })).toEqual({
      status: 401,
      body: { code: 3, description: "invalid api key" },
    });
    expect(await grpc(gw, "releases", { apiKey: "nope" })).toMatchObject({ code: Code.Unauthenticated });
    const denied = await rest(gw, "/subscriptions", { apiKey: READER_API_KEY });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 4 });
    expect(await grpc(gw, "subscriptions", { apiKey: READER_API_KEY })).toMatchObject({ code: Code.PermissionDenied });
    expect([401, 403]).not.toContain((await rest(gw, "/subscriptions", { apiKey: ADMIN_API_KEY })).status);
    expect((await rest(gw, "/releases", {})).body.description).toBe("missing bearer token");
  });

  it("a Bearer token is used when both are sent", async () => {
    const r = await rest(gw, "/releases", { bearer: hsToken(READER_SECRET, fresh(), "nobody"), apiKey: READER_API_KEY });
    expect(r.status).toBe(401);
  });
});

function io() {
  const o = { out: "", err: "" };
  const stream = (k: "out" | "err") => ({ write: (s: string) => ((o[k] += s), true) }) as unknown as NodeJS.WritableStream;
  return { o, io: { stdout: stream("out"), stderr: stream("err") } };
}

describe("scr auth / scr token", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "scr-cli-auth-"));
    file = join(dir, "configuration.json");
    writeFileSync(file, JSON.stringify({ baseURL: "/tmining/api/v1", log4js: { level: "warn" } }, null, 2));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A gateway started from the configuration file as it is now, with its key files. */
  async function gatewayFromConfig(): Promise<TestGateway> {
    const json = JSON.parse(readFileSync(file, "utf8")) as ConfigInput & { auth?: { clients?: { key: string }[] } };
    const files: Record<string, Buffer> = {};
    for (const f of [json.authentication, ...(json.auth?.clients ?? []).map((c) => c.key)]) if (f) files[f] = readFileSync(join(dir, f));
    return startTestGateway(SPEC_SELF, json, undefined, files);
  }

  it("refuses to run without --config, or with a missing one", async () => {
    const a = io();
    expect(await authCommand(["set-secret"], a.io)).toBe(2);
    expect(a.o.err).toContain("--config");
    const b = io();
    expect(await authCommand(["set-secret", "--config", join(dir, "nope.json")], b.io)).toBe(1);
    expect(b.o.err).toContain("does not exist");
    expect(await authCommand(["add-api-key", "x", "--roles", "root", "--config", file], io().io)).toBe(2);
    expect(await authCommand(["frobnicate"], io().io)).toBe(2);
    const c = io();
    expect(await tokenCommand(["--config", file], c.io)).toBe(1);
    expect(c.o.err).toContain("no \"authentication\" key");
  });

  it("set-secret, add-client, add-api-key and token work end to end against a gateway", async () => {
    const s = io();
    expect(await authCommand(["set-secret", "--config", file], s.io)).toBe(0);
    const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(written).toMatchObject({ authentication: "auth.txt", baseURL: "/tmining/api/v1", log4js: { level: "warn" } });
    const secret = readFileSync(join(dir, "auth.txt"));
    expect(secret.length).toBe(64);
    expect(secret.at(-1)).not.toBe(0x0a);
    expect(statSync(join(dir, "auth.txt")).mode & 0o777).toBe(0o600);
    expect(await authCommand(["set-secret", "--config", file], io().io)).toBe(1); // exists: --force

    expect(await authCommand(["add-client", "ci", "--roles", "read", "--config", file], io().io)).toBe(0);
    expect(await authCommand(["add-client", "ci", "--roles", "read", "--config", file], io().io)).toBe(1);
    const k = io();
    expect(await authCommand(["add-api-key", "legacy", "--roles", "read,write", "--config", file], k.io)).toBe(0);
    const apiKey = k.o.out.trim();
    const stored = readFileSync(file, "utf8");
    expect(stored).not.toContain(apiKey);
    expect(stored).toMatch(/"hash": "scrypt\$16384\$8\$1\$/);

    const t = io();
    expect(await tokenCommand(["--config", file, "--ttl", "20"], t.io)).toBe(0);
    const tok = t.o.out.trim();
    const [h, p] = tok.split(".").slice(0, 2).map((x) => JSON.parse(Buffer.from(x, "base64url").toString()) as Record<string, unknown>);
    expect(h).toEqual({ alg: "HS256", typ: "JWT" });
    expect(Number.isInteger(p!["exp"])).toBe(true);
    expect((p!["exp"] as number) - (p!["iat"] as number)).toBe(20);
    expect(typeof p!["jti"]).toBe("string");
    const c = io();
    expect(await tokenCommand(["--config", file, "--client", "ci"], c.io)).toBe(0);
    expect(JSON.parse(Buffer.from(c.o.out.split(".")[0]!, "base64url").toString())).toMatchObject({ kid: "ci" });
    expect(await tokenCommand(["--config", file, "--client", "nobody"], io().io)).toBe(1);
    expect(await tokenCommand(["--config", file, "--ttl", "100000"], io().io)).toBe(2);

    const gw = await gatewayFromConfig();
    try {
      expect((await rest(gw, "/releases", { bearer: tok })).status).toBe(200);
      expect((await rest(gw, "/releases", { bearer: tok })).status).toBe(401); // one-time
      expect((await rest(gw, "/releases", { bearer: c.o.out.trim() })).status).toBe(200);
      const ci = io();
      await tokenCommand(["--config", file, "--client", "ci"], ci.io);
      expect((await rest(gw, "/subscriptions", { bearer: ci.o.out.trim() })).status).toBe(403);
      expect((await rest(gw, "/releases", { apiKey })).status).toBe(200);
      expect((await rest(gw, "/subscriptions", { apiKey })).status).toBe(403);
    } finally {
      await gw.stop();
    }
  });

  it("set-public-key, then token --private-key", async () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pub = join(dir, "gateway.pem");
    const priv = join(dir, "signer-private.pem");
    writeFileSync(pub, pair.publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(priv, pair.privateKey.export({ type: "pkcs8", format: "pem" }));
    const bad = join(dir, "bad.pem");
    writeFileSync(bad, "not a key");
    expect(await authCommand(["set-public-key", bad, "--config", file], io().io)).toBe(1);
    expect(await authCommand(["set-public-key", pub, "--config", file], io().io)).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ authentication: "gateway.pem" });
    expect(await tokenCommand(["--config", file], io().io)).toBe(2); // --private-key needed
    const other = join(dir, "other-private.pem");
    writeFileSync(other, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    expect(await tokenCommand(["--config", file, "--private-key", other], io().io)).toBe(1);
    const t = io();
    expect(await tokenCommand(["--config", file, "--private-key", priv], t.io)).toBe(0);
    const gw = await gatewayFromConfig();
    try {
      expect((await rest(gw, "/releases", { bearer: t.o.out.trim() })).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});

describe("auth.clients / auth.apiKeys configuration", () => {
  it("is strict: unique names, at least one role, known roles, .pem/.txt keys, scrypt hashes", async () => {
    const { parseConfig } = await import("../../src/config/load.js");
    const client = { name: "a", key: "a.txt", roles: ["read"] };
    expect(() => parseConfig({ auth: { clients: [client] } })).not.toThrow();
    expect(() => parseConfig({ auth: { clients: [client, { ...client, key: "b.txt" }] } })).toThrow(/unique/);
    expect(() => parseConfig({ auth: { clients: [{ ...client, roles: [] }] } })).toThrow(/at least one role/);
    expect(() => parseConfig({ auth: { clients: [{ ...client, roles: ["root"] }] } })).toThrow();
    expect(() => parseConfig({ auth: { clients: [{ ...client, key: "a.json" }] } })).toThrow();
    expect(() => parseConfig({ auth: { clients: [{ ...client, extra: 1 }] } })).toThrow(/unknown key/);
    expect(() => parseConfig({ auth: { apiKeys: [{ name: "k", hash: "plain", roles: ["read"] }] } })).toThrow(/scrypt/);
  });
});
