import { generateKeyPairSync } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { loadVerificationKey, secretFrom, publicKeyFrom, AuthSetupError } from "../../src/auth/keys.js";
import { TokenVerifier } from "../../src/auth/verifier.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";
import { corpus, ecSetup, edSetup, fresh, hmacSetup, rsaSetup, token, type KeySetup } from "./tokens.js";

async function rest(gw: TestGateway, authorization?: string) {
  const res = await fetch(`${gw.rest}/releases`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, wwwAuth: res.headers.get("www-authenticate"), body: (await res.json()) as { code: number; description: string } };
}

async function rpc(gw: TestGateway, authorization?: string): Promise<ConnectError | undefined> {
  const client = createClient(ReleaseService, createGrpcTransport({ baseUrl: gw.url }));
  try {
    await client.listReleases({}, { headers: authorization === undefined ? {} : { authorization } });
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

for (const setup of [hmacSetup, ecSetup, rsaSetup, edSetup]) {
  const k: KeySetup = setup();
  describe(`authentication with ${k.name}`, () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(SPEC_SELF, { authentication: k.file }, undefined, { [k.file]: k.contents });
    });
    afterAll(() => gw.stop());

    it("accepts a valid token once (REST), then refuses it as already used", async () => {
      const t = `Bearer ${token(k, fresh())}`;
      expect((await rest(gw, t)).status).toBe(200);
      const again = await rest(gw, t);
      expect(again.status).toBe(401);
      expect(again.body).toEqual({ code: 3, description: "token already used" });
    });

    it("accepts a valid token once (gRPC), then refuses it as already used", async () => {
      const t = `Bearer ${token(k, fresh({ jti: `j-${Math.random()}` }))}`;
      expect(await rpc(gw, t)).toBeUndefined();
      const err = await rpc(gw, t);
      expect(err?.code).toBe(Code.Unauthenticated);
      expect(err?.rawMessage).toBe("token already used");
    });

    it("server reflection needs a token too", async () => {
      const { ServerReflection, ServerReflectionRequestSchema } = await import("../../gen/grpc/reflection/v1/reflection_pb.js");
      const { create } = await import("@bufbuild/protobuf");
      const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: gw.url }));
      const list = async (authorization?: string) => {
        async function* one() {
          yield create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
        }
        const names: string[] = [];
        for await (const a of client.serverReflectionInfo(one(), { headers: authorization ? { authorization } : {} })) {
          if (a.messageResponse.case === "listServicesResponse") names.push(...a.messageResponse.value.service.map((x) => x.name));
        }
        return names;
      };
      const refused = await list().catch((e) => ConnectError.from(e));
      expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
      expect(await list(`Bearer ${token(k, fresh({ jti: `r-${Math.random()}` }))}`)).toContain("scr.v1.ReleaseService");
    });

    it("refuses every token of the bad-token corpus on REST (401) and gRPC (unauthenticated)", async () => {
      const bad = corpus(k);
      const used = `Bearer ${token(k, fresh())}`;
      expect((await rest(gw, used)).status).toBe(200);
      bad["replayed"] = used;
      expect(Object.keys(bad).length).toBeGreaterThanOrEqual(30);
      const seen: Record<string, string> = {};
      for (const [name, value] of Object.entries(bad)) {
        const r = await rest(gw, value);
        expect(r.status, name).toBe(401);
        expect(r.body.code, name).toBe(3);
        expect(r.wwwAuth, name).toBe("Bearer");
        const err = await rpc(gw, value);
        expect(err?.code, name).toBe(Code.Unauthenticated);
        expect(err?.rawMessage, name).toBe(r.body.description);
        seen[name] = r.body.description;
      }
      expect(seen["missing header"]).toBe("missing bearer token");
      expect(seen["expired"]).toBe("token expired");
      expect(seen["no exp"]).toBe("token has no exp");
      expect(seen["exp as a string"]).toBe("exp must be a number");
      expect(seen["lifetime too long (iat)"]).toBe("token lifetime exceeds 300 seconds");
      expect(seen["larger than 8 KiB"]).toBe("token too large");
      expect(seen["alg none"]).toBe("algorithm not allowed");
      expect(seen["signature tampered"]).toBe("bad signature");
      expect(seen["replayed"]).toBe("token already used");
      if (k.publicPem) expect(seen["HS256 with the public PEM as secret"]).toBe("algorithm not allowed");
    });
  });
}

describe("mutations of a valid token", () => {
  for (const setup of [hmacSetup, ecSetup]) {
    const k = setup();
    const key = k.file.endsWith(".pem") ? publicKeyFrom(k.contents) : secretFrom(Buffer.from(k.contents));
    const verifier = new TokenVerifier(key, { maxTokenLifetimeSeconds: 300, clockToleranceSeconds: 5 });
    const valid = token(k, fresh());
    it(`${k.name}: the valid token passes, no single-byte or segment mutation does`, async () => {
      await expect(verifier.verify(valid)).resolves.toMatchObject({ client: "default" });
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
      const byteMutation = fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.constantFrom(...alphabet.split("")))
        .map(([i, ch]) => valid.slice(0, i) + ch + valid.slice(i + 1));
      const segs = valid.split(".");
      const segmentMutation = fc
        .tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.string({ maxLength: 12 }))
        .map(([i, j, s]) => {
          const p = [...segs];
          const r = [p[i]!, p[j]! + s, "", s][(i + j + s.length) % 4]!;
          p[i] = r;
          return p.join(".");
        });
      await fc.assert(
        fc.asyncProperty(fc.oneof(byteMutation, segmentMutation), async (t) => {
          fc.pre(t !== valid);
          await expect(verifier.verify(t)).rejects.toMatchObject({ kind: "unauthenticated" });
        }),
        { numRuns: 500 },
      );
    });
  }
});

describe("AuthSetupError", () => {
  it("refuses a secret file ending in a new line", () => {
    expect(() => secretFrom(Buffer.from("a-shared-secret-of-at-least-32-bytes-long!\n"), "s.txt")).toThrow(
      /must not contain a carriage return or new line/,
    );
    expect(() => secretFrom(Buffer.from("a-shared-secret-of-at-least-32-bytes-long!\r"))).toThrow(AuthSetupError);
  });
  it("refuses a short secret and reads a base64 one", () => {
    expect(() => secretFrom(Buffer.from("short"))).toThrow(/at least 32 bytes/);
    const b64 = Buffer.alloc(32, 7).toString("base64");
    expect(secretFrom(Buffer.from(b64), "s.txt", "base64").key).toEqual(new Uint8Array(32).fill(7));
    expect(() => secretFrom(Buffer.from("not base64!!"), "s.txt", "base64")).toThrow(/not valid base64/);
  });
  it("refuses an RSA 1024 key", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => publicKeyFrom(publicKey.export({ type: "spki", format: "pem" }))).toThrow(/1024-bit RSA key/);
  });
  it("refuses an unknown extension, and a gateway refuses to start with it", async () => {
    expect(() => loadVerificationKey("/tmp/key.json")).toThrow(AuthSetupError);
    await expect(startTestGateway(SPEC_SELF, { authentication: "key.json" }, undefined, { "key.json": "{}" })).rejects.toThrow(
      AuthSetupError,
    );
  });
  it("allowed algorithms follow from the key type", () => {
    expect(publicKeyFrom(ecSetup().contents).algorithms).toEqual(["ES256"]);
    const { publicKey } = generateKeyPairSync("ed25519");
    expect(publicKeyFrom(publicKey.export({ type: "spki", format: "pem" })).algorithms).toEqual(["EdDSA"]);
    expect(publicKeyFrom(rsaSetup().contents).algorithms).not.toContain("HS256");
  });
});

describe("starting without authentication", () => {
  it("refuses a non-loopback host", async () => {
    await expect(startTestGateway(SPEC_SELF, { httpServer: { host: "0.0.0.0" } })).rejects.toThrow(
      /not a loopback address/,
    );
  });
  it("starts on a non-loopback host only when auth.allowUnauthenticated is set", async () => {
    const gw = await startTestGateway(SPEC_SELF, { httpServer: { host: "0.0.0.0" }, auth: { allowUnauthenticated: true } });
    await gw.stop();
  });
  it("starts on loopback and checks nothing", async () => {
    const gw = await startTestGateway(SPEC_SELF);
    try {
      expect((await fetch(`${gw.rest}/releases`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
