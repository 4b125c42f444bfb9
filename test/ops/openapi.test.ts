import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProtoComments } from "../../src/transport/openapi/proto-comments.js";
import { restRoutes } from "../../src/transport/rest/http-rules.js";
import { boundServices } from "../../src/transport/services/index.js";
import { hmacSetup } from "../auth/tokens.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
let doc: Json;

beforeAll(async () => {
  const k = hmacSetup();
  // An authenticated gateway: the document needs no token, and says that the API does.
  gw = await startTestGateway(SPEC_SELF, { authentication: k.file }, undefined, { [k.file]: k.contents });
  const res = await fetch(`${gw.rest}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = await res.json();
});
afterAll(() => gw?.stop());

/** The REST routes the gateway serves, from the same rules the facade is built from. */
const served = () =>
  restRoutes(boundServices(gw.ctx).map((b) => b.service)).filter((r) => r.method.methodKind === "unary");

/** Follows a `$ref` within the document. */
const deref = (ref: string): Json => ref.replace(/^#\//, "").split("/").reduce((node: Json, key) => node?.[key], doc);

describe("GET {baseURL}/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.servers).toEqual([{ url: "/tmining/api/v1", description: "this gateway" }]);
    expect(doc.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
  });

  it("has every REST route with its method and success status; the bodiless 202s and 204s have no content", () => {
    const routes = served();
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const op = doc.paths[route.template]?.[route.httpMethod.toLowerCase()];
      expect(op, `${route.httpMethod} ${route.template}`).toBeDefined();
      const success = op.responses[String(route.successStatus)];
      expect(success, `${route.httpMethod} ${route.template} ${route.successStatus}`).toBeDefined();
      if (!route.hasBody) expect(success.content).toBeUndefined();
      else expect(success.content["application/json"].schema).toBeDefined();
      expect(op.responses["4XX"]).toEqual({ $ref: "#/components/responses/Error" });
      expect(op.responses["5XX"]).toEqual({ $ref: "#/components/responses/Error" });
      for (const name of route.pathFields) {
        expect(op.parameters.find((p: Json) => p.in === "path" && p.name === name)?.required).toBe(true);
      }
      expect(op.summary).toBeTruthy();
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.httpMethod} ${r.template}`).sort());
  });

  it("documents the spec's paths with the legacy statuses", () => {
    expect(doc.paths["/releases"].get.responses["200"].content["application/json"].schema).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/Release" },
    });
    const transfer = doc.paths["/releases/{address}/transfer"].put.responses["202"];
    expect(transfer.content).toBeUndefined();
    expect(transfer.headers["Operation-Id"]).toBeDefined();
    expect(doc.paths["/releases/{address}/assign_barge"].put.responses["204"].content).toBeUndefined();
    expect(doc.paths["/releases/{address}/pincode"].get.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/GetPincodeResponse",
    });
    const list = doc.paths["/releases"].get.parameters.map((p: Json) => `${p.in}:${p.name}`);
    expect(list).toEqual(expect.arrayContaining(["query:limit", "query:page", "query:since", "query:bl", "query:container"]));
    for (const path of ["/invitations", "/connections", "/subscriptions"]) expect(doc.paths[path]).toBeDefined();
  });

  it("uses the legacy JSON shapes: json names, nullable presence fields, legacy enum names, numbers, date-times", () => {
    const release = doc.components.schemas.Release;
    expect(release.properties.release_data).toMatchObject({ anyOf: [{ $ref: "#/components/schemas/ReleaseData" }, { type: "null" }] });
    expect(release.properties.release_data.description).toBe("The release data supplied by the carrier.");
    expect(release.required).toContain("release_data");
    expect(release.properties.previousOwner.type).toEqual(["string", "null"]);
    expect(release.properties.address.type).toBe("string");
    expect(release.properties.gateOut).toMatchObject({ type: ["string", "null"], format: "date-time" });
    expect(release.properties.conditions).toMatchObject({ type: "array", items: { type: "string" } });
    expect(doc.components.schemas.Operation.properties.blockNumber).toMatchObject({ type: ["integer", "null"], format: "int64" });
    expect(doc.components.schemas.Operation.properties.state.enum).toEqual(
      expect.arrayContaining(["pending", "submitted", "confirmed", "failed"]),
    );
    expect(JSON.stringify(doc.components.schemas)).toContain('"green"');
    expect(JSON.stringify(doc)).not.toMatch(/OPERATION_STATE_|_UNSPECIFIED/);
    expect(doc.components.schemas.Error).toMatchObject({
      required: ["code", "description"],
      properties: { code: { type: "integer" }, description: { type: "string" } },
    });
  });

  it("every $ref resolves", () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs.map((r) => r.slice(8, -1)))) expect(deref(ref), ref).toBeDefined();
  });

  it("the operations carry the proto comments", () => {
    const pincode = doc.paths["/releases/{address}/pincode"].get;
    expect(pincode.summary).toBe("Get the pincode of the release.");
    expect(pincode.description).toMatch(/Only the current owner may/);
    expect(pincode.tags).toEqual(["ReleaseService"]);
    expect(doc.tags.find((t: Json) => t.name === "ReleaseService").description).toMatch(/Releases transferred to this organisation/);
  });
});

describe("proto comments", () => {
  it("are read per declaration: services, rpcs, messages, nested and oneof fields, enum values", () => {
    const comments = parseProtoComments(`syntax = "proto3";
package a.v1;

// The service.
service S {
  // Gets {x}.
  rpc Get(GetRequest) returns (GetResponse) {
    option (google.api.http) = {get: "/x/{id}"};
  }
}

// Outer.
message Outer {
  // Inner.
  message Inner {
    // Deep.
    string deep = 1;
  }
  // First line
  // second line.
  optional Inner inner = 1 [json_name = "in_ner"];
  oneof choice {
    // A choice.
    string one = 2;
  }
  map<string, Inner> byName = 3; // Trailing.

  int32 bare = 4;
}

enum E {
  E_UNSPECIFIED = 0;
  // Green.
  E_GREEN = 1 [(legacy_name) = "green"];
}
`);
    expect(Object.fromEntries(comments)).toEqual({
      "a.v1.S": "The service.",
      "a.v1.S.Get": "Gets {x}.",
      "a.v1.Outer": "Outer.",
      "a.v1.Outer.Inner": "Inner.",
      "a.v1.Outer.Inner.deep": "Deep.",
      "a.v1.Outer.inner": "First line\nsecond line.",
      "a.v1.Outer.one": "A choice.",
      "a.v1.Outer.byName": "Trailing.",
      "a.v1.E.E_GREEN": "Green.",
    });
  });
});
