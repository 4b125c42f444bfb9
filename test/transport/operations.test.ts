import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationService, OperationState } from "../../gen/scr/v1/operation_service_pb.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
let id: string;

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF);
  const ops = gw.store.operations;
  const { operation } = ops.recordOperation(
    { id: "op-1", idempotencyKey: "k1", requestHash: "h", kind: "transfer", release: "0x79ed95e778d1c3284636ab0be741ce6836252fb0", signer: "0xabc", to: "0xdef", data: "0x" },
    Date.parse("2026-01-01T00:00:00Z"),
  );
  ops.markFailed(operation.id, "only the current owner can transfer this release", Date.parse("2026-01-01T00:00:01Z"), { txHash: "0x" + "ab".repeat(32), blockNumber: 12 });
  id = operation.id;
});
afterAll(() => gw.stop());

describe("operations are queryable", () => {
  it("GET /operations/{id} shows the state and the failure reason, nulls where unset", async () => {
    const res = await fetch(`${gw.rest}/operations/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id,
      kind: "transfer",
      state: "failed",
      release: "0x79ed95e778d1c3284636ab0be741ce6836252fb0",
      txHash: "0x" + "ab".repeat(32),
      blockNumber: 12,
      failureReason: "only the current owner can transfer this release",
      idempotencyKey: "k1",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:01.000Z",
    });
  });

  it("an unknown operation is 404 over REST and not_found over gRPC", async () => {
    expect((await fetch(`${gw.rest}/operations/nope`)).status).toBe(404);
    const client = createClient(OperationService, createGrpcTransport({ baseUrl: gw.url }));
    await expect(client.getOperation({ id: "nope" })).rejects.toThrow(/not found/);
  });

  it("ListOperations filters by state", async () => {
    const client = createClient(OperationService, createGrpcTransport({ baseUrl: gw.url }));
    expect((await client.listOperations({ state: OperationState.FAILED })).operations.map((o) => o.id)).toEqual([id]);
    expect((await client.listOperations({ state: OperationState.PENDING })).operations).toEqual([]);
    const rest = await (await fetch(`${gw.rest}/operations?state=failed`)).json();
    expect((rest as { id: string }[]).map((o) => o.id)).toEqual([id]);
  });
});
