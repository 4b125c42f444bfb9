/**
 * The specification's sandbox flow, end to end, with a gateway per party on one real anvil:
 * a carrier, "Test entity 1", "Test entity 2" and a terminal. Each step goes through the public
 * API (REST as legacy clients call it, and gRPC), never around it.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { getAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import type { Gateway } from "../../src/main.js";
import { OperationService, OperationState } from "../../gen/scr/v1/operation_service_pb.js";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { AssigneeType } from "../../gen/scr/v1/release_pb.js";
import { TerminalService } from "../../gen/scr/v1/terminal_service_pb.js";
import { specRelease } from "../support/gateway.js";
import { BASE, rest, startNetwork, type TestNetwork } from "../support/network.js";

let net: TestNetwork;
let carrier: Gateway;
let entity1: Gateway;
let entity2: Gateway;
let terminal: Gateway;

const addressOf = (gw: Gateway) => getAddress(gw.ctx.chain!.wallet.address);
const grpc = <T extends Parameters<typeof createClient>[0]>(service: T, gw: Gateway): Client<T> =>
  createClient(service, createGrpcTransport({ baseUrl: gw.url }));

/** Waits until the operation is confirmed, over REST (`Location`) and gRPC alike. */
async function confirmed(gw: Gateway, operationId: string): Promise<void> {
  const ops = grpc(OperationService, gw);
  const state = await net.settle(`operation ${operationId}`, async () => {
    const { operation } = await ops.getOperation({ id: operationId });
    return operation && (operation.state === OperationState.CONFIRMED || operation.state === OperationState.FAILED) ? operation : undefined;
  });
  expect(state.failureReason ?? "", `operation ${operationId} failed`).toBe("");
  expect(state.state).toBe(OperationState.CONFIRMED);
}

/** Follows a REST write's `Location` header to its confirmed operation. */
async function restWrite(gw: Gateway, method: string, path: string, body: unknown, status: number): Promise<string> {
  const res = await rest(gw, method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
  const id = res.headers.get("operation-id");
  expect(id).toBeTruthy();
  expect(res.headers.get("location")).toBe(`${BASE}/operations/${id}`);
  await confirmed(gw, id!);
  return id!;
}

/** The release as `gw` serves it over REST, once `ready` holds. */
function releaseAt(gw: Gateway, address: string, what: string, ready: (r: any) => boolean): Promise<any> {
  return net.settle(what, async () => {
    const res = await rest(gw, "GET", `/releases/${address}`);
    return res.status === 200 && ready(res.body) ? res.body : undefined;
  });
}

async function pincode(gw: Gateway, address: string): Promise<string> {
  const res = await rest(gw, "GET", `/releases/${address}/pincode`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(Object.keys(res.body)).toEqual(["pincode"]);
  return res.body.pincode as string;
}

beforeAll(async () => {
  net = await startNetwork();
  carrier = await net.join("Demo Carrier NV", "BE0000000099", Role.Carrier);
  entity1 = await net.join("Test entity 1", "BE0000000001", Role.Forwarder);
  entity2 = await net.join("Test entity 2", "BE0000000002", Role.Transporter);
  terminal = await net.join("Demo Terminal NV", "BE0000000098", Role.Terminal);
  await net.connect(carrier, entity1);
  await net.connect(entity1, entity2, "TRANSPORTER-2");
}, 180_000);

afterAll(async () => {
  await net?.stop();
});

describe("the sandbox flow of the specification", () => {
  let release: string;
  const PIN = "12345";

  it("1. the carrier creates a release and transfers it to entity 1", async () => {
    const created = await rest(carrier, "POST", "/carrier/releases", {
      release_data: {
        ...specRelease.release_data,
        container: { ...specRelease.release_data.container, pickupLoCode: "BEANR", turnInLoCode: "BEANR" },
      },
      pincode: PIN,
      terminal: addressOf(terminal),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    release = created.body.address;
    expect(release).toBe(getAddress(release));
    await confirmed(carrier, created.headers.get("operation-id")!);
    await releaseAt(carrier, release, "the carrier sees its release", (r) => r.creator === addressOf(carrier));

    // The first transfer, over gRPC.
    const { operationId } = await grpc(ReleaseService, carrier).transferRelease({ address: release, newOwner: { address: addressOf(entity1) } });
    await confirmed(carrier, operationId);
  });

  it("2. entity 1 lists and reads it — the documented JSON, key for key — then transfers it to entity 2", async () => {
    const listed = await net.settle("entity 1 lists the release", async () => {
      const res = await rest(entity1, "GET", `/releases?bl=${specRelease.release_data.billOfLading.blNumber}&limit=10`);
      return (res.body as any[]).find((r) => r.address === release);
    });
    const one = (await rest(entity1, "GET", `/releases/${release}`)).body;
    expect(listed).toEqual(one);
    // Golden: the spec's example with this network's parties and times.
    expect(one).toEqual({
      ...specRelease,
      release_data: {
        ...specRelease.release_data,
        container: { ...specRelease.release_data.container, pickupLoCode: "BEANR", turnInLoCode: "BEANR" },
      },
      address: release,
      encryptedPin: expect.stringMatching(/^[0-9a-f]{64,}$/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      owner: addressOf(entity1),
      creator: addressOf(carrier),
      greenLights: {
        total: "red",
        events: expect.objectContaining({ customs: { color: "red", value: "notreleased", updatedAt: "" } }),
        source: "",
      },
      version: "1.0.0",
      previousOwner: addressOf(carrier),
      previousOwnerName: "Demo Carrier NV",
      previousOwnerVat: "BE0000000099",
      nextOwner: null,
      nextOwnerName: null,
      nextOwnerVat: null,
      selfOwner: addressOf(entity1),
      selfOwnerName: "Test entity 1",
      selfOwnerVat: "BE0000000001",
    });
    // The same release over gRPC.
    const { release: viaGrpc } = await grpc(ReleaseService, entity1).getRelease({ address: release });
    expect(viaGrpc?.releaseData?.billOfLading?.blNumber).toBe(specRelease.release_data.billOfLading.blNumber);
    expect(viaGrpc?.previousOwner).toBe(addressOf(carrier));

    await restWrite(entity1, "PUT", `/releases/${release}/transfer`, { address: addressOf(entity2) }, 202);
    const seen = await releaseAt(entity2, release, "entity 2 holds the release", (r) => r.owner === addressOf(entity2));
    expect([seen.previousOwner, seen.previousOwnerName, seen.nextOwner]).toEqual([addressOf(entity1), "Test entity 1", null]);
    const atEntity1 = await releaseAt(entity1, release, "entity 1 sees its next owner", (r) => r.nextOwner === addressOf(entity2));
    expect(atEntity1.nextOwnerName).toBe("Test entity 2");
  });

  it("3. entity 2 retrieves the pin; the release can no longer be transferred", async () => {
    expect((await rest(entity1, "GET", `/releases/${release}/pincode`)).status).toBe(403);
    expect(await pincode(entity2, release)).toBe(PIN);
    await releaseAt(entity1, release, "pinRetrieved seen by entity 1", (r) => r.pinRetrieved === true);
    const refused = await rest(entity2, "PUT", `/releases/${release}/transfer`, { address: addressOf(entity1) });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ code: expect.any(Number), description: expect.stringMatching(/pin/i) });
  });

  it("4. entity 1 revokes; the carrier's gateway rotates the pin", async () => {
    const { operationId } = await grpc(ReleaseService, entity1).revokeRelease({ address: release });
    await confirmed(entity1, operationId);
    const back = await releaseAt(entity1, release, "entity 1 owns it again with a fresh pin", (r) => r.owner === addressOf(entity1) && r.encryptedPin !== "" && !r.pinRetrieved);
    expect(back.nextOwner).toBeNull();
    expect((await rest(entity2, "GET", `/releases/${release}`)).status).toBe(404);
    const rotated = await pincode(entity1, release);
    expect(rotated).not.toBe(PIN);
    expect(rotated).toMatch(/^\d+$/);
  });

  it("5. entity 1 assigns a driver, then a barge that replaces it", async () => {
    await restWrite(
      entity1,
      "PUT",
      `/releases/${release}/assign`,
      { firstName: "Jan", lastName: "Peeters", email: "jan@example.org", phone: "+32 3 123 45 67", type: "driver", identification: "ALFA-0001" },
      204,
    );
    await net.settle("the terminal sees the driver", () => (terminal.ctx.store.findRelease(release)?.assignment?.identification === "ALFA-0001" ? true : undefined));
    const { operationId } = await grpc(ReleaseService, entity1).assignBarge({
      address: release,
      barge: { name: "Antigoon", identification: "205402090", visitNumber: "BTS2356" },
    });
    await confirmed(entity1, operationId);
    const assignment = await net.settle("the terminal sees the barge", () => {
      const a = terminal.ctx.store.findRelease(release)?.assignment;
      return a?.type === "barge" ? a : undefined;
    });
    expect(assignment).toEqual({ type: "barge", name: "Antigoon", identification: "205402090", visitNumber: "BTS2356" });
  });

  it("6. the green lights change", async () => {
    await restWrite(
      terminal,
      "PUT",
      `/terminal/releases/${release}/green_lights`,
      { source: "NxtPort", events: { customs: { value: "selectedforscan", updatedAt: "2023-07-10 13:00" } } },
      202,
    );
    const yellow = await releaseAt(entity1, release, "customs yellow", (r) => r.greenLights.events.customs.value === "selectedforscan");
    expect([yellow.greenLights.events.customs.color, yellow.greenLights.total, yellow.greenLights.source]).toEqual(["yellow", "yellow", "NxtPort"]);

    const { operationId } = await grpc(TerminalService, terminal).updateGreenLights({
      address: release,
      source: "NxtPort",
      events: {
        customs: { value: "released", updatedAt: "2023-07-10 14:00" },
        commercialrelease: { value: "ok", updatedAt: "2023-07-05 13:37" },
        terminaloperation: { value: "discharged", updatedAt: "2023-07-10 11:50" },
        terminalready: { value: "released", updatedAt: "2023-07-10 12:00" },
      },
    });
    await confirmed(terminal, operationId);
    const green = await releaseAt(entity1, release, "total green", (r) => r.greenLights.total === "green");
    expect(green.greenLights.events.commercialrelease).toEqual({ color: "green", value: "ok", updatedAt: "2023-07-05 13:37" });
  });

  it("7. the terminal verifies the pin with the barge's identification and records the gate-out", async () => {
    const rotated = await pincode(entity1, release);
    const ok = await rest(terminal, "POST", `/terminal/releases/${release}/verify`, { pincode: rotated, identification: "205402090" });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, reasons: [], assignee: { type: "barge", identification: "205402090" } });

    const client = grpc(TerminalService, terminal);
    const oldPin = await client.verifyPickup({ address: release, pincode: PIN, identification: "205402090" });
    expect(oldPin.valid).toBe(false);
    expect(oldPin.reasons.join(" ")).toMatch(/pin/i);
    const wrongBarge = await client.verifyPickup({ address: release, pincode: rotated, identification: "999" });
    expect(wrongBarge.valid).toBe(false);
    expect(wrongBarge.assignee?.type).toBe(AssigneeType.BARGE);

    await restWrite(terminal, "PUT", `/terminal/releases/${release}/gate_out`, {}, 202);
    const out = await releaseAt(entity1, release, "the gate-out", (r) => r.gateOut !== null);
    expect(Date.parse(out.gateOut)).toBeGreaterThan(Date.parse(out.createdAt) - 1);
    const again = await client.verifyPickup({ address: release, pincode: rotated, identification: "205402090" });
    expect(again.valid).toBe(false);
  });
});
