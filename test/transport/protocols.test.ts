import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleaseSchema } from "../../gen/scr/v1/release_pb.js";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { toLegacyJson } from "../../src/transport/rest/legacy-json.js";
import { SPEC_CARRIER, SPEC_SELF, specRelease, specReleaseRecord, startTestGateway, type TestGateway } from "../support/gateway.js";

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

let gw: TestGateway;
let expected: unknown;

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF);
  gw.store.upsertOrganization(SPEC_CARRIER);
  gw.store.upsertOrganization(SPEC_SELF);
  gw.store.upsertRelease(specReleaseRecord());
  expected = await (await fetch(`${gw.rest}/releases/${specRelease.address}`)).json();
});
afterAll(() => gw.stop());

describe("one listener, every protocol, the same release", () => {
  it("REST over HTTP/1.1 returns the seeded release", () => {
    expect(expected).toMatchObject({ address: specRelease.address, previousOwnerName: SPEC_CARRIER.name });
  });

  const transports = {
    "Connect over HTTP/1.1": () => createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
    "Connect over h2c": () => createConnectTransport({ baseUrl: gw.url, httpVersion: "2" }),
    "gRPC over h2c": () => createGrpcTransport({ baseUrl: gw.url }),
    "gRPC-Web over HTTP/1.1": () => createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
  };
  for (const [name, transport] of Object.entries(transports)) {
    it(`${name} (connect-node) returns the same release`, async () => {
      const client = createClient(ReleaseService, transport());
      const { release } = await client.getRelease({ address: specRelease.address });
      expect(toLegacyJson(ReleaseSchema, create(ReleaseSchema, release))).toEqual(expected);
      const { releases } = await client.listReleases({});
      expect(releases.map((r) => r.address)).toEqual([specRelease.address]);
    });
  }

  it("gRPC through @grpc/grpc-js and @grpc/proto-loader (an independent implementation)", async () => {
    const definition = protoLoader.loadSync("scr/v1/release_service.proto", {
      includeDirs: [root("proto"), root("node_modules/google-proto-files")],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as any;
    const client = new pkg.scr.v1.ReleaseService(gw.url.replace("http://", ""), grpc.credentials.createInsecure());
    try {
      const res: any = await new Promise((resolve, reject) =>
        client.GetRelease({ address: specRelease.address }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))),
      );
      const r = res.release;
      expect(r.address).toBe(specRelease.address);
      expect(r.owner).toBe(specRelease.owner);
      expect(r.release_data.bill_of_lading.bl_number).toBe("RELEASE-API-TEST-1612");
      expect(r.release_data.container.valid_from.seconds).toBe(String(Date.parse("2017-01-05T14:00:00Z") / 1000));
      expect(r.green_lights.total).toBe("COLOR_GREEN");
      expect(r.green_lights.events.customs).toEqual({ color: "COLOR_GREEN", value: "released", updated_at: "2023-07-10 13:00" });
      expect(r.previous_owner).toBe(specRelease.previousOwner);
      expect(r.previous_owner_name).toBe(SPEC_CARRIER.name);
      expect(r.next_owner).toBeUndefined(); // unset optional: absent on the wire
      expect(r.gate_out).toBeNull();

      const missing = await new Promise<grpc.ServiceError>((resolve) =>
        client.GetRelease({ address: "0x0000000000000000000000000000000000000001" }, (err: grpc.ServiceError) => resolve(err)),
      );
      expect(missing.code).toBe(grpc.status.NOT_FOUND);
    } finally {
      client.close();
    }
  });

  it("answers gRPC server reflection (v1) with the service's file and its imports", async () => {
    const { ServerReflection, ServerReflectionRequestSchema } = await import("../../gen/grpc/reflection/v1/reflection_pb.js");
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: gw.url }));
    async function* requests() {
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
      yield create(ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "scr.v1.ReleaseService.GetRelease" },
      });
    }
    const answers = [];
    for await (const a of client.serverReflectionInfo(requests())) answers.push(a);
    const list = answers[0]!.messageResponse;
    expect(list.case).toBe("listServicesResponse");
    const names = list.case === "listServicesResponse" ? list.value.service.map((s) => s.name) : [];
    expect(names).toContain("scr.v1.ReleaseService");
    expect(names).toContain("grpc.reflection.v1alpha.ServerReflection");
    const files = answers[1]!.messageResponse;
    expect(files.case).toBe("fileDescriptorResponse");
    if (files.case === "fileDescriptorResponse") expect(files.value.fileDescriptorProto.length).toBeGreaterThan(3);
  });
});
