/**
 * The forwarder's and transporter's writes on a release, between real gateways on one real
 * anvil, over REST and gRPC: a carrier creates a release (through its ledger, without the
 * CarrierService) and transfers it to forwarder A, A passes it to transporter B, B retrieves
 * the pin, A revokes, assigns and unassigns. Every broken rule is refused before any
 * transaction, with the legacy body on REST and the matching code on gRPC.
 */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { getAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import type { Assignment } from "../../src/domain/releases/model.js";
import type { Gateway } from "../../src/main.js";
import { AssigneeType } from "../../gen/scr/v1/release_pb.js";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { BASE, rest, startNetwork, type RestResponse, type TestNetwork } from "../support/network.js";
import {
  createRelease,
  deleteRelease,
  randomReleaseId,
  settleRelease,
  transferAndSettle,
  transferTo,
  type CreatedRelease,
} from "../support/releases.js";

let net: TestNetwork;
let carrier: Gateway;
let terminal: Gateway;
let a: Gateway;
let b: Gateway;
let c: Gateway;
let stranger: Gateway;
/** The release of the main flow: carrier → A → B, then back to A. */
let r1: CreatedRelease;
/** A release owned by A that the carrier deleted. */
let deleted: CreatedRelease;

const addressOf = (gw: Gateway) => getAddress(gw.ctx.chain!.wallet.address);
const lowerOf = (gw: Gateway) => gw.ctx.chain!.wallet.address.toLowerCase();
const cached = (gw: Gateway, id: string) => gw.ctx.store.findRelease(id.toLowerCase());
const operationCount = (gw: Gateway) => gw.ctx.store.operations.listOperations({ limit: 1000 }).length;
const operationsOn = (gw: Gateway, id: string, kind: string) =>
  gw.ctx.store.operations.listOperations({ limit: 1000 }).filter((op) => op.release === id.toLowerCase() && op.kind === kind);

const clients = new Map<Gateway, Client<typeof ReleaseService>>();
function grpc(gw: Gateway): Client<typeof ReleaseService> {
  let client = clients.get(gw);
  if (!client) {
    client = createClient(ReleaseService, createGrpcTransport({ baseUrl: gw.url }));
    clients.set(gw, client);
  }
  return client;
}

/** The REST status and legacy code of each Connect code these rules use. */
const LEGACY: Partial<Record<Code, { status: number; code: number }>> = {
  [Code.InvalidArgument]: { status: 400, code: 2 },
  [Code.PermissionDenied]: { status: 403, code: 4 },
  [Code.NotFound]: { status: 404, code: 5 },
  [Code.FailedPrecondition]: { status: 409, code: 7 },
};

/**
 * The call is refused over REST (status and legacy body `{code, description}`, the
 * description matching `why`) and over gRPC (the Connect code), and the caller's gateway
 * records no operation for either.
 */
async function refused(
  gw: Gateway,
  code: Code,
  why: RegExp,
  viaRest: () => Promise<RestResponse>,
  viaGrpc?: (client: Client<typeof ReleaseService>) => Promise<unknown>,
): Promise<void> {
  const legacy = LEGACY[code]!;
  const before = operationCount(gw);
  const res = await viaRest();
  expect(res.status, JSON.stringify(res.body)).toBe(legacy.status);
  expect(res.body).toEqual({ code: legacy.code, description: expect.stringMatching(why) });
  if (viaGrpc) {
    const err = await viaGrpc(grpc(gw)).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code, err?.message ?? "accepted over gRPC").toBe(code);
    expect(err?.rawMessage).toMatch(why);
  }
  expect(operationCount(gw)).toBe(before);
}

const put = (gw: Gateway, id: string, action: string, body?: unknown, headers?: Record<string, string>) =>
  rest(gw, "PUT", `/releases/${id}/${action}`, body, headers);

const DRIVER = {
  firstName: "Jan",
  lastName: "Peeters",
  email: "jan.peeters@example.org",
  phone: "+32 3 123 45 67",
  type: "driver",
  identification: "ALFA-0001",
};
const BARGE = { name: "Antigoon", identification: "205402090", visitNumber: "BTS2356" };

beforeAll(async () => {
  net = await startNetwork();
  carrier = await net.join("Carrier NV", "BE0000000201", Role.Carrier);
  terminal = await net.join("Terminal NV", "BE0000000202", Role.Terminal);
  a = await net.join("Forwarder A", "BE0000000203", Role.Forwarder);
  b = await net.join("Transporter B", "NL000000204B01", Role.Transporter);
  c = await net.join("Transporter C", "DE000000205", Role.Transporter);
  stranger = await net.join("Stranger", "FR00000000206", Role.Forwarder);
  await Promise.all([net.connect(carrier, a), net.connect(a, b)]);

  r1 = await createRelease(net, carrier, { terminal });
  await transferAndSettle(net, carrier, r1.id, a);
  deleted = await createRelease(net, carrier);
  await transferAndSettle(net, carrier, deleted.id, a);
  await deleteRelease(carrier, deleted.id);
  await settleRelease(net, deleted.id, [carrier, a], "the deletion seen by the carrier and A", (r) => r.deleted);
}, 240_000);

afterAll(async () => {
  await net?.stop();
});

describe("a release the carrier transferred to forwarder A", () => {
  it("A lists and reads it, with the carrier as previous owner", async () => {
    const list = await rest(a, "GET", `/releases?bl=${r1.data.billOfLading.blNumber}`);
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const one = await rest(a, "GET", `/releases/${r1.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list.body[0]);
    expect(one.body).toMatchObject({
      address: r1.id,
      owner: addressOf(a),
      creator: addressOf(carrier),
      previousOwner: addressOf(carrier),
      previousOwnerName: "Carrier NV",
      nextOwner: null,
      selfOwner: addressOf(a),
      selfOwnerName: "Forwarder A",
      pinRetrieved: false,
      deleted: false,
      release_data: { billOfLading: { blNumber: r1.data.billOfLading.blNumber }, container: { containerNumber: r1.data.container.containerNumber } },
    });
    const viaGrpc = await grpc(a).getRelease({ address: r1.id });
    expect(viaGrpc.release?.previousOwner).toBe(addressOf(carrier));
    const carriers = await rest(carrier, "GET", `/releases/${r1.id}`);
    expect(carriers.body).toMatchObject({ owner: addressOf(a), nextOwner: addressOf(a), previousOwner: null });
  });

  it("for a stranger, and for B before it is in the chain, the release does not exist: 404 for reads and writes", async () => {
    const id = r1.id;
    for (const gw of [stranger, b]) {
      await refused(gw, Code.NotFound, /not found/, () => rest(gw, "GET", `/releases/${id}`), (x) => x.getRelease({ address: id }));
      await refused(gw, Code.NotFound, /not found/, () => rest(gw, "GET", `/releases/${id}/pincode`), (x) => x.getPincode({ address: id }));
      await refused(
        gw,
        Code.NotFound,
        /not found/,
        () => transferTo(gw, id, a),
        (x) => x.transferRelease({ address: id, newOwner: { address: addressOf(a) } }),
      );
      await refused(gw, Code.NotFound, /not found/, () => put(gw, id, "revoke"), (x) => x.revokeRelease({ address: id }));
      await refused(gw, Code.NotFound, /not found/, () => put(gw, id, "assign", DRIVER));
      await refused(gw, Code.NotFound, /not found/, () => put(gw, id, "assign_barge", BARGE), (x) => x.assignBarge({ address: id, barge: BARGE }));
      await refused(gw, Code.NotFound, /not found/, () => put(gw, id, "unassign"), (x) => x.unassignRelease({ address: id }));
    }
    // A release that does not exist at all looks the same.
    const unknown = randomReleaseId();
    await refused(a, Code.NotFound, /not found/, () => rest(a, "GET", `/releases/${unknown}/pincode`));
    await refused(a, Code.NotFound, /not found/, () => transferTo(a, unknown, b));
  });

  it("refuses every broken rule before any transaction, with the documented error", async () => {
    const id = r1.id;
    // Bad input: 400 naming the field.
    await refused(a, Code.InvalidArgument, /address/, () => put(a, id, "transfer", {}), (x) => x.transferRelease({ address: id }));
    await refused(a, Code.InvalidArgument, /address/, () => put(a, id, "transfer", { address: "0x1234" }));
    await refused(a, Code.InvalidArgument, /address/, () => put(a, "not-an-address", "revoke"), (x) => x.revokeRelease({ address: "nope" }));

    // Transfer by a party that is not the current owner.
    await refused(
      carrier,
      Code.PermissionDenied,
      /only the current owner/,
      () => transferTo(carrier, id, a),
      (x) => x.transferRelease({ address: id, newOwner: { address: addressOf(a) } }),
    );
    // Transfer to a party that is not a connection, to oneself, to a party already in the chain.
    await refused(
      a,
      Code.FailedPrecondition,
      /is not one of your connections/,
      () => transferTo(a, id, c),
      (x) => x.transferRelease({ address: id, newOwner: { address: addressOf(c) } }),
    );
    await refused(a, Code.FailedPrecondition, /yourself/, () => transferTo(a, id, a));
    await refused(a, Code.FailedPrecondition, /already in the ownership chain/, () => transferTo(a, id, carrier));

    // Revoke by a party that did not transfer: the current owner, the terminal.
    for (const gw of [a, terminal]) {
      await refused(gw, Code.PermissionDenied, /only a party that transferred/, () => put(gw, id, "revoke"), (x) => x.revokeRelease({ address: id }));
    }
    // Assign, unassign and the pincode by a party that is not the current owner.
    await refused(carrier, Code.PermissionDenied, /only the current owner/, () => put(carrier, id, "assign", DRIVER));
    await refused(carrier, Code.PermissionDenied, /only the current owner/, () => put(carrier, id, "assign_barge", BARGE));
    await refused(carrier, Code.PermissionDenied, /only the current owner/, () => put(carrier, id, "unassign"), (x) => x.unassignRelease({ address: id }));
    for (const gw of [carrier, terminal]) {
      await refused(gw, Code.PermissionDenied, /only the current owner/, () => rest(gw, "GET", `/releases/${id}/pincode`), (x) => x.getPincode({ address: id }));
    }
    // Unassign with no assignment.
    await refused(a, Code.FailedPrecondition, /not assigned/, () => put(a, id, "unassign"), (x) => x.unassignRelease({ address: id }));

    // Missing or bad driver and barge fields: 400 naming the field as the caller spells it.
    for (const field of ["firstName", "lastName", "identification"]) {
      await refused(a, Code.InvalidArgument, new RegExp(`^${field}: is required`), () => put(a, id, "assign", { ...DRIVER, [field]: "" }));
    }
    const { type: _type, ...untyped } = DRIVER;
    await refused(a, Code.InvalidArgument, /^type/, () => put(a, id, "assign", untyped), (x) => x.assignRelease({ address: id, assignee: untyped }));
    await refused(a, Code.InvalidArgument, /type/, () => put(a, id, "assign", { ...DRIVER, type: "truck" }));
    await refused(a, Code.InvalidArgument, /^email/, () => put(a, id, "assign", { ...DRIVER, email: "jan" }));
    await refused(a, Code.InvalidArgument, /^lastName: must be at most 255/, () => put(a, id, "assign", { ...DRIVER, lastName: "x".repeat(256) }));
    await refused(
      a,
      Code.InvalidArgument,
      /^firstName/,
      () => put(a, id, "assign", { ...DRIVER, firstName: "  " }),
      (x) => x.assignRelease({ address: id, assignee: { ...DRIVER, type: AssigneeType.DRIVER, firstName: "" } }),
    );
    await refused(a, Code.InvalidArgument, /^name/, () => put(a, id, "assign", { type: "barge", identification: "205402090" }));
    await refused(a, Code.InvalidArgument, /^name/, () => put(a, id, "assign_barge", { ...BARGE, name: "" }), (x) => x.assignBarge({ address: id, barge: { ...BARGE, name: "" } }));
    await refused(a, Code.InvalidArgument, /^identification/, () => put(a, id, "assign_barge", { name: "Antigoon" }));
    await refused(a, Code.InvalidArgument, /^visitNumber/, () => put(a, id, "assign_barge", { ...BARGE, visitNumber: "9".repeat(256) }));

    // Any action on a deleted release.
    const gone = deleted.id;
    await refused(
      a,
      Code.FailedPrecondition,
      /deleted/,
      () => transferTo(a, gone, b),
      (x) => x.transferRelease({ address: gone, newOwner: { address: addressOf(b) } }),
    );
    await refused(a, Code.FailedPrecondition, /deleted/, () => rest(a, "GET", `/releases/${gone}/pincode`), (x) => x.getPincode({ address: gone }));
    await refused(a, Code.FailedPrecondition, /deleted/, () => put(a, gone, "assign", DRIVER));
    await refused(a, Code.FailedPrecondition, /deleted/, () => put(a, gone, "assign_barge", BARGE), (x) => x.assignBarge({ address: gone, barge: BARGE }));
    await refused(a, Code.FailedPrecondition, /deleted/, () => put(a, gone, "unassign"));
    await refused(carrier, Code.FailedPrecondition, /deleted/, () => put(carrier, gone, "revoke"), (x) => x.revokeRelease({ address: gone }));
    // Still readable, as deleted.
    expect((await rest(a, "GET", `/releases/${gone}`)).body).toMatchObject({ deleted: true });
  });
});

describe("A passes the release on to B, B retrieves the pin, A takes it back", () => {
  it("A transfers to B: 202 with the operation in Location and Operation-Id; a retry with the same key is the same operation", async () => {
    const key = randomUUID();
    const first = await transferTo(a, r1.id, b, { "Idempotency-Key": key });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toBeUndefined();
    const opId = first.headers.get("operation-id");
    expect(opId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get("location")).toBe(`${BASE}/operations/${opId}`);

    const again = await transferTo(a, r1.id, b, { "Idempotency-Key": key });
    expect(again.status).toBe(202);
    expect(again.headers.get("operation-id")).toBe(opId);
    expect(operationsOn(a, r1.id, "transfer_release")).toHaveLength(1);

    const op = await net.settle("the transfer confirmed", async () => {
      const res = await fetch(`${a.url}${first.headers.get("location")}`);
      const body = (await res.json()) as { state: string };
      return body.state === "confirmed" ? body : undefined;
    });
    expect(op).toMatchObject({ id: opId, kind: "transfer_release", release: r1.id.toLowerCase(), idempotencyKey: key, failureReason: null });

    const seenByB = await net.settle("B sees the release", async () => {
      const res = await rest(b, "GET", `/releases/${r1.id}`);
      return res.status === 200 ? res.body : undefined;
    });
    expect(seenByB).toMatchObject({
      owner: addressOf(b),
      previousOwner: addressOf(a),
      previousOwnerName: "Forwarder A",
      nextOwner: null,
      selfOwner: addressOf(b),
      release_data: { billOfLading: { blNumber: r1.data.billOfLading.blNumber } },
    });
    const seenByA = await net.settle("A sees B as next owner", async () => {
      const res = await rest(a, "GET", `/releases/${r1.id}`);
      return res.body.nextOwner ? res.body : undefined;
    });
    expect(seenByA).toMatchObject({ owner: addressOf(b), previousOwner: addressOf(carrier), nextOwner: addressOf(b), nextOwnerName: "Transporter B" });
    expect((await grpc(b).getRelease({ address: r1.id })).release?.previousOwner).toBe(addressOf(a));

    // A is no longer the owner.
    await refused(a, Code.PermissionDenied, /only the current owner/, () => put(a, r1.id, "assign", DRIVER));
  });

  it("B retrieves the pin once on chain, however many ask at once; pinRetrieved becomes true and the transfer is closed", async () => {
    expect(cached(b, r1.id)?.pinRetrieved).toBe(false);
    const [viaRest, viaGrpc] = await Promise.all([rest(b, "GET", `/releases/${r1.id}/pincode`), grpc(b).getPincode({ address: r1.id })]);
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toEqual({ pincode: r1.pin });
    expect(viaGrpc.pincode).toBe(r1.pin);
    const marks = operationsOn(b, r1.id, "mark_pin_retrieved");
    expect(marks).toHaveLength(1);
    expect(marks[0]!.state).toBe("confirmed");

    await net.settle("pinRetrieved on B's and A's side", async () => {
      const [forB, forA] = await Promise.all([rest(b, "GET", `/releases/${r1.id}`), rest(a, "GET", `/releases/${r1.id}`)]);
      return forB.body.pinRetrieved && forA.body.pinRetrieved ? true : undefined;
    });
    // Reading again is fine and records nothing more.
    expect((await rest(b, "GET", `/releases/${r1.id}/pincode`)).body).toEqual({ pincode: r1.pin });
    expect(operationsOn(b, r1.id, "mark_pin_retrieved")).toHaveLength(1);

    // The pin goes to the current owner only.
    await refused(a, Code.PermissionDenied, /only the current owner/, () => rest(a, "GET", `/releases/${r1.id}/pincode`));
    // No transfer once the pin is retrieved.
    await refused(
      b,
      Code.FailedPrecondition,
      /already retrieved/,
      () => transferTo(b, r1.id, a),
      (x) => x.transferRelease({ address: r1.id, newOwner: { address: addressOf(a) } }),
    );
    // B is the owner, not an earlier one: it cannot revoke.
    await refused(b, Code.PermissionDenied, /only a party that transferred/, () => put(b, r1.id, "revoke"));
  });

  it("A revokes: the operation comes back over gRPC (the same for a retried key), A owns it again and B no longer sees it", async () => {
    const key = randomUUID();
    const first = await grpc(a).revokeRelease({ address: r1.id, idempotencyKey: key });
    const again = await grpc(a).revokeRelease({ address: r1.id, idempotencyKey: key });
    expect(first.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.operationId).toBe(first.operationId);
    expect(operationsOn(a, r1.id, "revoke_release")).toHaveLength(1);

    await net.settle("B cut out of the chain", async () => ((await rest(b, "GET", `/releases/${r1.id}`)).status === 404 ? true : undefined));
    const seenByA = await net.settle("A owns it again", async () => {
      const res = await rest(a, "GET", `/releases/${r1.id}`);
      return res.body.owner === addressOf(a) ? res.body : undefined;
    });
    expect(seenByA).toMatchObject({ previousOwner: addressOf(carrier), nextOwner: null, selfOwner: addressOf(a) });
    const op = await rest(a, "GET", `/operations/${first.operationId}`);
    expect(op.body).toMatchObject({ kind: "revoke_release", state: "confirmed" });
    // The retried key after the revoke took effect still names the same operation.
    expect((await grpc(a).revokeRelease({ address: r1.id, idempotencyKey: key })).operationId).toBe(first.operationId);
  });
});

describe("assigning the release", () => {
  /** Waits until the owner's cache (A) and the terminal's both hold `expected`. */
  async function assigned(expected: Assignment | null): Promise<void> {
    await settleRelease(net, r1.id, [a, terminal], "the assignment on A's and the terminal's side", (r) => isDeepStrictEqual(r.assignment, expected));
  }

  it("A assigns a driver (204 with the operation); the owner and the terminal see it; the driver is in the registry", async () => {
    const res = await put(a, r1.id, "assign", DRIVER);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(res.body).toBeUndefined();
    const opId = res.headers.get("operation-id");
    expect(res.headers.get("location")).toBe(`${BASE}/operations/${opId}`);
    await assigned({ ...DRIVER, type: "driver" });
    expect((await rest(a, "GET", `/operations/${opId}`)).body).toMatchObject({ kind: "assign_release", state: "confirmed" });

    const saved = a.ctx.store.drivers.findDriver(DRIVER.identification);
    expect(saved).toMatchObject({ firstName: "Jan", lastName: "Peeters", email: DRIVER.email, phone: DRIVER.phone });
    expect(saved!.updatedAt).toBe(saved!.createdAt);
  });

  it("assigning the same driver with other data updates the registry; unchanged data leaves it alone", async () => {
    const before = a.ctx.store.drivers.findDriver(DRIVER.identification)!;
    const changed = { ...DRIVER, phone: "+32 470 00 00 00", email: "" };
    const res = await grpc(a).assignRelease({ address: r1.id, assignee: { ...changed, type: AssigneeType.DRIVER } });
    expect(res.operationId).toMatch(/^[0-9a-f-]{36}$/);
    await assigned({ ...changed, type: "driver" });
    const after = a.ctx.store.drivers.findDriver(DRIVER.identification)!;
    expect(after).toMatchObject({ phone: "+32 470 00 00 00", email: "", createdAt: before.createdAt });
    expect(after.updatedAt).toBeGreaterThanOrEqual(before.updatedAt);

    const same = await put(a, r1.id, "assign", changed);
    expect(same.status).toBe(204);
    expect(a.ctx.store.drivers.findDriver(DRIVER.identification)).toEqual(after);
    await net.settle("the repeated assignment confirmed", () =>
      a.ctx.store.operations.findOperation(same.headers.get("operation-id")!)?.state === "confirmed" ? true : undefined,
    );
  });

  it("assign_barge replaces the driver with no unassign first, and /assign with type barge replaces it again", async () => {
    const res = await put(a, r1.id, "assign_barge", BARGE);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(res.headers.get("operation-id")).toBeTruthy();
    await assigned({ type: "barge", ...BARGE });

    const next = { type: "barge", name: "Antigoon", identification: "205402090", visitNumber: "BTS9999" };
    expect((await put(a, r1.id, "assign", next)).status).toBe(204);
    await assigned({ type: "barge", name: next.name, identification: next.identification, visitNumber: next.visitNumber });
  });

  it("A unassigns (202 with the operation); unassigning again is 409", async () => {
    const res = await put(a, r1.id, "unassign");
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const opId = res.headers.get("operation-id");
    expect(res.headers.get("location")).toBe(`${BASE}/operations/${opId}`);
    await assigned(null);
    expect((await rest(a, "GET", `/operations/${opId}`)).body).toMatchObject({ kind: "unassign_release", state: "confirmed" });

    await refused(a, Code.FailedPrecondition, /not assigned/, () => put(a, r1.id, "unassign"), (x) => x.unassignRelease({ address: r1.id }));
  });
});
