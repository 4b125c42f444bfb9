import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGuard } from "../../src/auth/guard.js";
import { legacyErrorHandler } from "../../src/transport/rest/errors.js";
import { restPlugin } from "../../src/transport/rest/plugin.js";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
const BODY_LIMIT = 4096;

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF, { httpServer: { bodyLimit: BODY_LIMIT } });
});
afterAll(() => gw.stop());

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(gw.rest + path, {
    method,
    body,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as { code: number; description: string } | undefined };
}

const ADDR = "0x79ED95e778d1C3284636Ab0Be741Ce6836252Fb0";

describe("bad REST requests get a legacy error body with a 4xx, never a 500", () => {
  const cases: [string, string, string, string | undefined, Record<string, string>, number, number, RegExp][] = [
    ["malformed JSON", "PUT", `/releases/${ADDR}/transfer`, '{"address": ', {}, 400, 2, /^body: is not valid JSON/],
    ["a body that is not an object", "PUT", `/releases/${ADDR}/transfer`, "[1,2]", {}, 400, 2, /^body: must be a JSON object/],
    ["a number where a string belongs", "PUT", `/releases/${ADDR}/transfer`, '{"address": 5}', {}, 400, 2, /^address: must be a string/],
    ["a wrong enum value", "PUT", `/releases/${ADDR}/assign`, '{"type": "truck"}', {}, 400, 2, /^type: must be one of "driver", "barge"/],
    ["a string where a number belongs", "GET", "/releases?limit=ten", undefined, {}, 400, 2, /^limit: must be a whole number/],
    ["an unknown query parameter", "GET", "/releases?contianer=X", undefined, {}, 400, 2, /^contianer: is not a parameter/],
    ["a repeated query parameter", "GET", "/releases?bl=A&bl=B", undefined, {}, 400, 2, /^bl: must be given once/],
    ["a malformed since", "GET", "/releases?since=yesterday", undefined, {}, 400, 2, /^since: must be an ISO 8601/],
    ["a negative limit", "GET", "/releases?limit=-1", undefined, {}, 400, 2, /^limit: must be a whole number, 0 or more/],
    ["a malformed release address", "GET", "/releases/0x1234", undefined, {}, 400, 2, /^address: must be an address/],
    ["an unknown path", "GET", "/nothing/here", undefined, {}, 404, 5, /no endpoint GET/],
    ["a wrong method on a known path", "DELETE", "/releases", undefined, {}, 404, 5, /no endpoint DELETE/],
    ["a non-JSON content type", "PUT", `/releases/${ADDR}/transfer`, "address=0x1", { "content-type": "text/plain" }, 415, 12, /application\/json/],
    ["an oversized body", "PUT", `/releases/${ADDR}/transfer`, JSON.stringify({ address: "x".repeat(BODY_LIMIT * 2) }), {}, 413, 10, /larger than/],
  ];
  for (const [name, method, path, body, headers, status, code, description] of cases) {
    it(`${name} → ${status}`, async () => {
      const res = await call(method, path, body, headers);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ code, description: expect.stringMatching(description) });
    });
  }

  it("a write on a gateway with no chain node → 503 unavailable, the legacy body", async () => {
    const res = await call("PUT", `/releases/${ADDR}/revoke`, undefined);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ code: 8, description: expect.stringMatching(/chain/) });
  });

  it("an empty JSON body on a call without a body is accepted as no body", async () => {
    const res = await call("PUT", `/releases/${ADDR}/revoke`, "");
    expect(res.status).toBe(503); // not 400: the request itself was fine
  });

  it("a method the contract declares but a service does not serve → 501", async () => {
    const app = Fastify();
    app.setErrorHandler(legacyErrorHandler);
    await app.register(restPlugin, { baseURL: "/api", services: [{ service: ReleaseService, impl: {} }], guard: createGuard(undefined) });
    const res = await app.inject({ method: "PUT", url: `/api/releases/${ADDR}/revoke` });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toEqual({ code: 9, description: expect.stringContaining("/releases/{address}/revoke") });
    await app.close();
  });
});

describe("bad RPC requests get invalid_argument, never internal", () => {
  it("Connect JSON with a wrong type is invalid_argument", async () => {
    const res = await fetch(`${gw.url}/scr.v1.ReleaseService/GetRelease`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"address": 12}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
  });

  it("a malformed address names the field", async () => {
    const client = createClient(ReleaseService, createGrpcTransport({ baseUrl: gw.url }));
    const err = await client.getRelease({ address: "nope" }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/^address: /);
  });

  it("a message over readMaxBytes is refused, not processed", async () => {
    const client = createClient(ReleaseService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    const err = await client.listReleases({ bl: "x".repeat(BODY_LIMIT * 2) }).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("a text over 255 characters is invalid_argument naming the field", async () => {
    const client = createClient(ReleaseService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    const err = await client.listReleases({ container: "C".repeat(256) }).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("container: must be at most 255 characters");
  });
});
