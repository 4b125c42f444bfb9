/**
 * The roles that feed releases, on one real anvil with a gateway per organisation: a carrier
 * creates, updates, blocks, unblocks and deletes releases and renews the pincode after a
 * revoke by itself; a terminal verifies pickups, records gate-outs and publishes green
 * lights, as a port system does. Over REST and gRPC; the forwarder and transporter see it.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { getAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../src/adapters/chain/evm/contracts.js";
import type { Assignment, ReleaseRecord } from "../../src/domain/releases/model.js";
import type { Gateway } from "../../src/main.js";
import { CarrierService } from "../../gen/scr/v1/carrier_service_pb.js";
import { AssigneeType } from "../../gen/scr/v1/release_pb.js";
import { TerminalService } from "../../gen/scr/v1/terminal_service_pb.js";
import { specReleaseData } from "../support/gateway.js";
import { BASE, rest, startNetwork, type TestNetwork } from "../support/network.js";

let net: TestNetwork;
let carrier: Gateway;
let forwarder: Gateway;
let transporter: Gateway;
let terminal: Gateway;
let port: Gateway;

const chainOf = (gw: Gateway) => gw.ctx.chain!;
const addressOf = (gw: Gateway) => getAddress(chainOf(gw).wallet.address);
const grpc = <T extends Parameters<typeof createClient>[0]>(service: T, gw: Gateway): Client<T> =>
  createClient(service, createGrpcTransport({ baseUrl: gw.url }));
const operationCount = (gw: Gateway) => gw.ctx.store.operations.listOperations({ limit: 100_000 }).length;

/** The release data as a REST caller sends it: the spec's example with its own bill of lading. */
function restData(bl: string, container: Record<string, unknown> = {}) {
  const d = specReleaseData(bl);
  return {
    billOfLading: d.billOfLading,
    container: { ...d.container, validFrom: d.container.validFrom!.toISOString(), validUntil: d.container.validUntil!.toISOString(), ...container },
  };
}

let serial = 0;
const nextBl = () => `BL-CT-${++serial}-${Date.now().toString(36)}`;

/** Waits until the gateway's write is confirmed on chain. */
async function confirmed(gw: Gateway, operationId: string): Promise<void> {
  const op = await chainOf(gw).pipeline.settled(operationId, 30_000);
  expect(op.state, `${op.kind}: ${op.failureReason ?? ""}`).toBe("confirmed");
}

/** A REST write: the status, the operation headers, and the operation confirmed. */
async function restWrite(gw: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await rest(gw, method, path, body, headers);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(202);
  const id = res.headers.get("operation-id");
  expect(id).toBeTruthy();
  expect(res.headers.get("location")).toBe(`${BASE}/operations/${id}`);
  await confirmed(gw, id!);
  return res;
}

/** A refused REST call: the status, and the legacy body naming `mention`. */
async function refused(gw: Gateway, method: string, path: string, body: unknown, status: number, mention: string): Promise<void> {
  const res = await rest(gw, method, path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.description).toContain(mention);
  expect(res.headers.get("operation-id")).toBeNull();
}

/** Waits until the gateway's cache holds the release and `test` holds for it. */
function cached(gw: Gateway, id: string, what: string, test: (r: ReleaseRecord) => boolean = () => true): Promise<ReleaseRecord> {
  return net.settle(what, () => {
    const r = gw.ctx.store.findRelease(id.toLowerCase());
    return r && test(r) ? r : undefined;
  });
}

/** The release as the gateway serves it over REST, once `ready` holds. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function served(gw: Gateway, id: string, what: string, ready: (r: any) => boolean = () => true): Promise<any> {
  return net.settle(what, async () => {
    const res = await rest(gw, "GET", `/releases/${id}`);
    return res.status === 200 && ready(res.body) ? res.body : undefined;
  });
}

/** Creates a release over REST; resolves once the carrier (and the terminal) serve it. */
async function createRelease(opts: { terminal?: boolean; pin?: string } = {}): Promise<{ id: string; pin: string; bl: string }> {
  const bl = nextBl();
  const pin = opts.pin ?? String(100_000 + serial);
  const res = await restWrite(carrier, "POST", "/carrier/releases", {
    release_data: restData(bl),
    pincode: pin,
    terminal: opts.terminal ? addressOf(terminal) : "",
  });
  const id = res.body.address as string;
  expect(id).toBe(getAddress(id));
  await served(carrier, id, "the carrier serves the new release");
  if (opts.terminal) await served(terminal, id, "the terminal serves the new release");
  return { id, pin, bl };
}

const ownerIs = (gw: Gateway) => (r: ReleaseRecord) => r.owners[r.owners.length - 1] === chainOf(gw).wallet.address.toLowerCase();

/** The current owner hands the release on: PUT /releases/{address}/transfer (the carrier's first transfer too). */
async function transfer(from: Gateway, id: string, to: Gateway): Promise<void> {
  await cached(from, id, "the sender owns the release", (x) => ownerIs(from)(x) && x.encryptedPin !== "");
  await restWrite(from, "PUT", `/releases/${id}/transfer`, { address: addressOf(to) });
  await cached(to, id, "the recipient owns the release", ownerIs(to));
  await cached(from, id, "the sender sees the new owner", ownerIs(to));
}

/** PUT /releases/{address}/revoke by an earlier owner. */
async function revoke(by: Gateway, id: string): Promise<void> {
  await restWrite(by, "PUT", `/releases/${id}/revoke`);
}

/** GET /releases/{address}/pincode: records the retrieval on chain first. */
async function retrievePin(owner: Gateway, id: string): Promise<string> {
  const res = await rest(owner, "GET", `/releases/${id}/pincode`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.pincode as string;
}

/** PUT /releases/{address}/assign by the owner; the terminal can then read the driver. */
async function assignDriver(owner: Gateway, id: string, driver: Assignment): Promise<void> {
  const res = await rest(owner, "PUT", `/releases/${id}/assign`, driver);
  expect(res.status, JSON.stringify(res.body)).toBe(204);
  await cached(terminal, id, "the terminal sees the assignment", (r) => r.assignment?.identification === driver.identification);
}

const DRIVER: Assignment = {
  type: "driver",
  firstName: "Jan",
  lastName: "Peeters",
  email: "jan@example.org",
  phone: "+32470000000",
  identification: "ALFA-0042",
};

beforeAll(async () => {
  net = await startNetwork();
  carrier = await net.join("Carrier NV", "BE0000000201", Role.Carrier);
  forwarder = await net.join("Forwarder BV", "NL000000202B01", Role.Forwarder);
  transporter = await net.join("Transporter SA", "BE0000000203", Role.Transporter);
  terminal = await net.join("Terminal NV", "BE0000000204", Role.Terminal);
  port = await net.join("Port Community", "BE0000000205", Role.PortSystem);
  await net.connect(carrier, forwarder);
  await net.connect(forwarder, transporter);
}, 240_000);

afterAll(async () => {
  await net?.stop();
});

describe("the carrier over REST", () => {
  it("creates a release with a terminal: the carrier and the terminal list it with its data; no one else sees it", async () => {
    const { id, bl } = await createRelease({ terminal: true });
    const expected = restData(bl);
    for (const gw of [carrier, terminal]) {
      const list = (await rest(gw, "GET", "/releases")).body as { address: string; release_data: typeof expected }[];
      const r = list.find((x) => x.address === id);
      expect(r, `${gw === carrier ? "carrier" : "terminal"} lists ${id}`).toBeDefined();
      expect(r!.release_data.billOfLading).toEqual(expected.billOfLading);
      expect(r!.release_data.container).toMatchObject({
        containerNumber: expected.container.containerNumber,
        pickupLoCode: "BEANR",
        turnInReference: expected.container.turnInReference,
      });
      expect(new Date(r!.release_data.container.validUntil).toISOString()).toBe(expected.container.validUntil);
    }
    const seen = await served(carrier, id, "the carrier's view");
    expect(seen).toMatchObject({ creator: addressOf(carrier), owner: addressOf(carrier), blocked: false, deleted: false, gateOut: null });
    expect((await rest(forwarder, "GET", `/releases/${id}`)).status).toBe(404);
  });

  it("a retried creation with the same Idempotency-Key names the same release and operation", async () => {
    const body = { release_data: restData(nextBl()), pincode: "777111" };
    const headers = { "Idempotency-Key": `create-${Date.now()}` };
    const first = await restWrite(carrier, "POST", "/carrier/releases", body, headers);
    const again = await rest(carrier, "POST", "/carrier/releases", body, headers);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("operation-id")).toBe(first.headers.get("operation-id"));
  });

  it("updates a transferred release: the forwarder sees the change; the agent cannot change", async () => {
    const { id, bl } = await createRelease();
    await transfer(carrier, id, forwarder);
    const before = await served(forwarder, id, "the forwarder sees the release");
    expect(before.release_data.billOfLading.vessel).toBe("AAA");

    await restWrite(carrier, "PUT", `/carrier/releases/${id}`, {
      release_data: restData(bl, { pickupLocation: "MPET", validUntil: "2031-02-03T04:05:06.000Z" }),
    });
    const after = await served(forwarder, id, "the forwarder sees the update", (r) => r.release_data.container.pickupLocation === "MPET");
    expect(new Date(after.release_data.container.validUntil).toISOString()).toBe("2031-02-03T04:05:06.000Z");
    expect(after.release_data.billOfLading.blNumber).toBe(bl);

    const data = restData(bl);
    await refused(carrier, "PUT", `/carrier/releases/${id}`, { release_data: { ...data, billOfLading: { ...data.billOfLading, agent: "Other agent" } } }, 400, "release_data.billOfLading.agent");
    // Only the creator: the forwarder is no carrier at all.
    await refused(forwarder, "PUT", `/carrier/releases/${id}`, { release_data: data }, 403, "carrier");
  });

  it("blocks, unblocks and deletes; each refused twice; a deleted release refuses every write before any transaction", async () => {
    const { id, bl } = await createRelease();
    await transfer(carrier, id, forwarder);

    await restWrite(carrier, "PUT", `/carrier/releases/${id}/block`);
    const blocked = await served(forwarder, id, "the forwarder sees it blocked", (r) => r.blocked === true);
    expect(blocked.release_data.container.containerStatus).toBe("blocked");
    await cached(carrier, id, "the carrier's cache blocked", (r) => r.blocked);
    await refused(carrier, "PUT", `/carrier/releases/${id}/block`, undefined, 409, "already blocked");

    await restWrite(carrier, "PUT", `/carrier/releases/${id}/unblock`);
    const unblocked = await served(forwarder, id, "the forwarder sees it unblocked", (r) => r.blocked === false);
    expect(unblocked.release_data.container.containerStatus).toBe("released");
    await cached(carrier, id, "the carrier's cache unblocked", (r) => !r.blocked);
    await refused(carrier, "PUT", `/carrier/releases/${id}/unblock`, undefined, 409, "not blocked");

    await restWrite(carrier, "DELETE", `/carrier/releases/${id}`);
    await served(forwarder, id, "the forwarder sees it deleted", (r) => r.deleted === true);
    await cached(carrier, id, "the carrier's cache deleted", (r) => r.deleted);

    const ops = operationCount(carrier);
    await refused(carrier, "PUT", `/carrier/releases/${id}`, { release_data: restData(bl) }, 409, "deleted");
    await refused(carrier, "PUT", `/carrier/releases/${id}/block`, undefined, 409, "deleted");
    await refused(carrier, "DELETE", `/carrier/releases/${id}`, undefined, 409, "deleted");
    expect(operationCount(carrier)).toBe(ops);
  });

  it("a forwarder cannot create releases (403); nor block, nor a carrier one it did not create (404 when not visible)", async () => {
    await refused(forwarder, "POST", "/carrier/releases", { release_data: restData(nextBl()), pincode: "123456" }, 403, "carrier");
    const unknown = getAddress(`0x${"ab".repeat(20)}`);
    await refused(carrier, "PUT", `/carrier/releases/${unknown}/block`, undefined, 404, "not found");
  });

  it("bad input is refused with 400 naming the field, before any transaction", async () => {
    const ops = operationCount(carrier);
    const data = restData(nextBl());
    await refused(carrier, "POST", "/carrier/releases", { release_data: { ...data, billOfLading: { ...data.billOfLading, blNumber: "" } }, pincode: "1234" }, 400, "release_data.billOfLading.blNumber");
    await refused(carrier, "POST", "/carrier/releases", { release_data: { ...data, billOfLading: { ...data.billOfLading, vessel: "v".repeat(256) } }, pincode: "1234" }, 400, "release_data.billOfLading.vessel");
    await refused(carrier, "POST", "/carrier/releases", { release_data: { ...data, container: { ...data.container, containerNumber: "" } }, pincode: "1234" }, 400, "release_data.container.containerNumber");
    await refused(
      carrier,
      "POST",
      "/carrier/releases",
      { release_data: { ...data, container: { ...data.container, validFrom: "2030-01-02T00:00:00Z", validUntil: "2030-01-01T00:00:00Z" } }, pincode: "1234" },
      400,
      "release_data.container.validUntil",
    );
    await refused(carrier, "POST", "/carrier/releases", { release_data: data }, 400, "pincode");
    await refused(carrier, "POST", "/carrier/releases", { release_data: data, pincode: "12 34" }, 400, "pincode");
    await refused(carrier, "POST", "/carrier/releases", { release_data: data, pincode: "1234", terminal: "0x1234" }, 400, "terminal");
    // A registered organisation, but not a terminal.
    await refused(carrier, "POST", "/carrier/releases", { release_data: data, pincode: "1234", terminal: addressOf(forwarder) }, 400, "terminal");
    await refused(carrier, "POST", "/carrier/releases", { release_data: data, pincode: "1234", address: "not-an-address" }, 400, "address");
    expect(operationCount(carrier)).toBe(ops);
  });
});

describe("the carrier over gRPC", () => {
  it("creates without a terminal, then sets one: the terminal reads the data and the pincode", async () => {
    const client = grpc(CarrierService, carrier);
    const bl = nextBl();
    const d = specReleaseData(bl);
    const releaseData = {
      billOfLading: d.billOfLading,
      container: { ...d.container, validFrom: timestampFromDate(d.container.validFrom!), validUntil: timestampFromDate(d.container.validUntil!) },
    };
    const created = await client.createRelease({ releaseData, pincode: "A1B2C3" });
    expect(created.address).toBe(getAddress(created.address));
    await confirmed(carrier, created.operationId);
    const id = created.address;
    await cached(carrier, id, "the carrier caches it");

    const updated = await client.updateRelease({
      address: id,
      releaseData: { ...releaseData, container: { ...releaseData.container, turnInReference: "REF-2" } },
      terminal: addressOf(terminal),
    });
    await confirmed(carrier, updated.operationId);
    const atTerminal = await cached(terminal, id, "the terminal reads the data", (r) => r.data.container.turnInReference === "REF-2");
    expect(atTerminal.terminal).toBe(addressOf(terminal).toLowerCase());
    expect(chainOf(terminal).crypto.openPin(atTerminal.encryptedPin)).toBe("A1B2C3");

    // Typed refusals on RPC.
    await expect(grpc(CarrierService, forwarder).createRelease({ releaseData, pincode: "1" })).rejects.toMatchObject({ code: Code.PermissionDenied });
    const err = await client.createRelease({ releaseData: { ...releaseData, billOfLading: { ...d.billOfLading, blNumber: "" } }, pincode: "1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("release_data.billOfLading.blNumber");
    await client.blockRelease({ address: id }).then((r) => confirmed(carrier, r.operationId));
    await cached(carrier, id, "blocked", (r) => r.blocked);
    await expect(client.blockRelease({ address: id })).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });
});

describe("the terminal and the port system", () => {
  it("green lights: colours and total follow the values; the forwarder sees them with the source", async () => {
    const { id } = await createRelease({ terminal: true });
    await transfer(carrier, id, forwarder);
    const publish = async (gw: Gateway, source: string, events: Record<string, { value: string; updatedAt: string }>) => {
      const res = await grpc(TerminalService, gw).updateGreenLights({ address: id, source, events });
      await confirmed(gw, res.operationId);
    };

    await publish(terminal, "NxtPort", { customs: { value: "selectedforscan", updatedAt: "2023-07-10 13:00" } });
    const yellow = await served(forwarder, id, "customs yellow", (r) => r.greenLights.events.customs.value === "selectedforscan");
    expect(yellow.greenLights.events.customs).toEqual({ color: "yellow", value: "selectedforscan", updatedAt: "2023-07-10 13:00" });
    expect(yellow.greenLights.total).toBe("yellow");
    expect(yellow.greenLights.source).toBe("NxtPort");
    await cached(terminal, id, "the terminal's own lights", (r) => r.greenLights.events.customs.value === "selectedforscan");

    await publish(terminal, "NxtPort", {
      commercialrelease: { value: "ok", updatedAt: "2023-07-05 13:37" },
      terminaloperation: { value: "discharged", updatedAt: "2023-07-10 11:50" },
      terminalready: { value: "released", updatedAt: "2023-07-10 12:00" },
    });
    const three = await served(forwarder, id, "three more lights", (r) => r.greenLights.events.terminalready.value === "released");
    // Customs kept its value: still yellow.
    expect(three.greenLights.events.customs.value).toBe("selectedforscan");
    expect(three.greenLights.total).toBe("yellow");
    await cached(terminal, id, "the terminal's own lights again", (r) => r.greenLights.events.terminalready.value === "released");

    await publish(terminal, "NxtPort", { customs: { value: "released", updatedAt: "2023-07-10 13:00" } });
    const green = await served(forwarder, id, "total green", (r) => r.greenLights.total === "green");
    expect(green.greenLights).toMatchObject({
      total: "green",
      source: "NxtPort",
      events: {
        customs: { color: "green", value: "released" },
        commercialrelease: { color: "green", value: "ok", updatedAt: "2023-07-05 13:37" },
        terminaloperation: { color: "green", value: "discharged" },
        terminalready: { color: "green", value: "released" },
        pickuplight: { color: "gray", value: "unknown", updatedAt: "" },
      },
    });

    // The port system publishes too; it is not a party, so it has no cache of the release: the
    // lights it does not name keep their values as published on chain.
    await publish(port, "PCS", { gateoperation: { value: "gateoutreceived", updatedAt: "2023-07-12 14:16" } });
    const fromPort = await served(forwarder, id, "the port system's lights", (r) => r.greenLights.source === "PCS");
    expect(fromPort.greenLights.events.gateoperation).toEqual({ color: "green", value: "gateoutreceived", updatedAt: "2023-07-12 14:16" });
    expect(fromPort.greenLights.events.customs).toEqual(green.greenLights.events.customs);
    expect(fromPort.greenLights.total).toBe("green");
    // A release that does not exist: 404 before any transaction.
    const before = operationCount(port);
    const missing = await rest(port, "PUT", `/terminal/releases/0x${"ab".repeat(20)}/green_lights`, { source: "PCS", events: { customs: { value: "released" } } });
    expect(missing.status).toBe(404);
    expect(operationCount(port)).toBe(before);
  });

  it("green lights: unknown names and values, a missing source, and other roles are refused (Connect: 400/403)", async () => {
    const { id } = await createRelease({ terminal: true });
    const connect = async (gw: Gateway, body: Record<string, unknown>) => {
      const res = await fetch(`${gw.url}/scr.v1.TerminalService/UpdateGreenLights`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ address: id, ...body }),
      });
      return { status: res.status, body: (await res.json()) as { code: string; message: string } };
    };
    const ops = operationCount(terminal);
    for (const [body, field] of [
      [{ source: "NxtPort", events: { colour: { value: "green" } } }, "events.colour"],
      [{ source: "NxtPort", events: { customs: { value: "green" } } }, "events.customs.value"],
      [{ source: "NxtPort", events: { terminalready: { value: "ok" } } }, "events.terminalready.value"],
      [{ events: { customs: { value: "released" } } }, "source"],
      [{ source: "NxtPort", events: {} }, "events"],
    ] as const) {
      const res = await connect(terminal, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe("invalid_argument");
      expect(res.body.message.startsWith(`${field}: `), res.body.message).toBe(true);
    }
    expect(operationCount(terminal)).toBe(ops);
    const denied = await connect(forwarder, { source: "NxtPort", events: { customs: { value: "released" } } });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain("terminal");
  });

  it("gate-out: the terminal records it and cancels it; the forwarder sees gateOut; others may not", async () => {
    const { id } = await createRelease({ terminal: true });
    await transfer(carrier, id, forwarder);

    await restWrite(terminal, "PUT", `/terminal/releases/${id}/gate_out`, {});
    const out = await served(forwarder, id, "gateOut set", (r) => r.gateOut !== null);
    expect(Number.isNaN(new Date(out.gateOut).getTime())).toBe(false);

    await restWrite(terminal, "PUT", `/terminal/releases/${id}/gate_out`, { cancel: true });
    await served(forwarder, id, "gateOut cancelled", (r) => r.gateOut === null);
    await cached(terminal, id, "the terminal sees the cancel", (r) => r.gateOut === null);
    await refused(terminal, "PUT", `/terminal/releases/${id}/gate_out`, { cancel: true }, 409, "no gate-out");

    const at = new Date("2024-03-04T05:06:07.000Z");
    const recorded = await grpc(TerminalService, terminal).recordGateOut({ address: id, gateOutAt: timestampFromDate(at) });
    await confirmed(terminal, recorded.operationId);
    const exact = await served(forwarder, id, "gateOut at the given time", (r) => r.gateOut !== null);
    expect(new Date(exact.gateOut).toISOString()).toBe(at.toISOString());

    await refused(forwarder, "PUT", `/terminal/releases/${id}/gate_out`, {}, 403, "terminal");
    await refused(port, "PUT", `/terminal/releases/${id}/gate_out`, {}, 403, "terminal");
  });

  it("VerifyPickup: pincode and identification against the release; the reasons say what failed", async () => {
    const { id, pin } = await createRelease({ terminal: true, pin: "246810" });
    await transfer(carrier, id, forwarder);
    const verify = (pincode: string, identification = "") => grpc(TerminalService, terminal).verifyPickup({ address: id, pincode, identification });

    const unassigned = await verify(pin);
    expect(unassigned.valid).toBe(false);
    expect(unassigned.reasons).toEqual(["The release is not assigned to a driver or a barge."]);
    expect(unassigned.assignee).toBeUndefined();

    const wrong = await verify("999999");
    expect(wrong.valid).toBe(false);
    expect(wrong.reasons).toContain("The pincode does not match the release's pincode.");

    await assignDriver(forwarder, id, DRIVER);
    const ok = await verify(pin, DRIVER.identification);
    expect(ok.reasons).toEqual([]);
    expect(ok.valid).toBe(true);
    expect(ok.assignee).toMatchObject({ type: AssigneeType.DRIVER, firstName: "Jan", lastName: "Peeters", identification: "ALFA-0042" });

    const otherDriver = await verify(pin, "ALFA-0043");
    expect(otherDriver.valid).toBe(false);
    expect(otherDriver.reasons).toEqual(["The identification does not match the assigned driver's."]);

    // Over REST, with the legacy JSON.
    const viaRest = await rest(terminal, "POST", `/terminal/releases/${id}/verify`, { pincode: pin, identification: DRIVER.identification });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toMatchObject({ valid: true, reasons: [], assignee: { type: "driver", identification: "ALFA-0042" } });

    // Blocked, then gated out: no longer valid.
    await restWrite(carrier, "PUT", `/carrier/releases/${id}/block`);
    await cached(terminal, id, "blocked at the terminal", (r) => r.blocked);
    expect((await verify(pin, DRIVER.identification)).reasons).toEqual(["The release is blocked by the carrier."]);
    await cached(carrier, id, "blocked at the carrier", (r) => r.blocked);
    await restWrite(carrier, "PUT", `/carrier/releases/${id}/unblock`);
    await restWrite(terminal, "PUT", `/terminal/releases/${id}/gate_out`, {});
    await cached(terminal, id, "gated out at the terminal", (r) => r.gateOut !== null && !r.blocked);
    const gone = await verify(pin, DRIVER.identification);
    expect(gone.valid).toBe(false);
    expect(gone.reasons).toHaveLength(1);
    expect(gone.reasons[0]).toContain("already left the terminal");

    // Only the release's terminal: others are refused, an unknown release is not found.
    await refused(forwarder, "POST", `/terminal/releases/${id}/verify`, { pincode: pin }, 403, "terminal");
    await refused(terminal, "POST", `/terminal/releases/${getAddress(`0x${"cd".repeat(20)}`)}/verify`, { pincode: pin }, 404, "not found");
  });
});

describe("the carrier renews the pincode after a revoke, by itself", () => {
  it("revoked after the pincode was retrieved: a new pincode for the owner and the terminal", async () => {
    const { id, pin } = await createRelease({ terminal: true, pin: "135790" });
    await transfer(carrier, id, forwarder);
    await transfer(forwarder, id, transporter);
    expect(await retrievePin(transporter, id)).toBe(pin);
    await cached(forwarder, id, "the forwarder sees the retrieval", (r) => r.pinRetrieved);

    await revoke(forwarder, id);
    const renewed = await cached(forwarder, id, "a new pincode for the forwarder", (r) => ownerIs(forwarder)(r) && r.encryptedPin !== "" && !r.pinRetrieved);
    const newPin = chainOf(forwarder).crypto.openPin(renewed.encryptedPin);
    expect(newPin).not.toBe(pin);
    expect(newPin).toMatch(/^[0-9A-Za-z]+$/);
    expect(await retrievePin(forwarder, id)).toBe(newPin);

    // The carrier keeps its own copy; the terminal has the new pincode.
    expect(chainOf(carrier).crypto.openPin(carrier.ctx.store.carrierPins.findPin(id)!)).toBe(newPin);
    const atTerminal = await cached(terminal, id, "the terminal's new pincode", (r) => r.encryptedPin !== "" && chainOf(terminal).crypto.openPin(r.encryptedPin) === newPin);
    expect(atTerminal.encryptedPin).not.toBe("");
    const verify = (pincode: string) => grpc(TerminalService, terminal).verifyPickup({ address: id, pincode, identification: "" });
    expect((await verify(newPin)).reasons).not.toContain("The pincode does not match the release's pincode.");
    expect((await verify(pin)).reasons).toContain("The pincode does not match the release's pincode.");

    // One renewal for the one revoke.
    const renewals = carrier.ctx.store.operations.listOperations({ limit: 100_000 }).filter((op) => op.release === id.toLowerCase() && op.kind === "renew_pin");
    expect(renewals).toHaveLength(1);
    expect(renewals[0]!.idempotencyKey).toMatch(/^pin-renewal:0x[0-9a-f]{64}:\d+$/);

    // The pincode is retrieved again, so the release stays with the forwarder.
    await cached(forwarder, id, "retrieved again", (r) => r.pinRetrieved);
    await refused(forwarder, "PUT", `/releases/${id}/transfer`, { address: addressOf(transporter) }, 409, "retrieved");
  });

  it("revoked before any retrieval: the same pincode, re-wrapped for the new owner", async () => {
    const { id, pin } = await createRelease({ terminal: true, pin: "864200" });
    await transfer(carrier, id, forwarder);
    await transfer(forwarder, id, transporter);

    await revoke(forwarder, id);
    const back = await cached(forwarder, id, "the pincode re-wrapped for the forwarder", (r) => ownerIs(forwarder)(r) && r.encryptedPin !== "");
    expect(back.pinRetrieved).toBe(false);
    expect(chainOf(forwarder).crypto.openPin(back.encryptedPin)).toBe(pin);
    const atTerminal = await cached(terminal, id, "the terminal keeps the pincode", ownerIs(forwarder));
    expect(chainOf(terminal).crypto.openPin(atTerminal.encryptedPin)).toBe(pin);
  });

  it("the carrier revokes from its first party: the pincode comes back to the carrier", async () => {
    const { id, pin } = await createRelease({ pin: "112233" });
    await transfer(carrier, id, forwarder);
    await revoke(carrier, id);
    const back = await cached(carrier, id, "the carrier owns it with its pincode", (r) => ownerIs(carrier)(r) && r.encryptedPin !== "");
    expect(chainOf(carrier).crypto.openPin(back.encryptedPin)).toBe(pin);
    expect((await rest(forwarder, "GET", `/releases/${id}`)).status).toBe(404);
  });
});
