/**
 * Two gateways on one local chain: invitations and connections end to end, over REST and gRPC.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Contract, JsonRpcProvider, NonceManager, getAddress } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type AnvilHandle } from "../../src/adapters/chain/devnet/anvil.js";
import { localAdmin } from "../../src/adapters/chain/connect.js";
import { Role, deployAll, interfaces, waitForReceipt, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { parseConfig } from "../../src/config/load.js";
import { startGateway, type Gateway } from "../../src/main.js";
import { ConnectionService, InvitationDirection, InvitationStatus } from "../../gen/scr/v1/connection_service_pb.js";

const BASE = "/tmining/api/v1";
const A_VAT = "BE0000000101";
const B_VAT = "NL000000102B01";
const C_VAT = "DE000000103";

let anvil: AnvilHandle;
let provider: JsonRpcProvider;
/** The registry administrator; one nonce sequence for every admin transaction. */
let admin: NonceManager;
let addresses: ContractAddresses;
const dirs: string[] = [];
let a: Gateway;
let b: Gateway;
let c: Gateway;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startOrg(name: string, vat: string, role: number): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "scr-conn-"));
  dirs.push(dir);
  const config = {
    ...parseConfig({ dataDir: dir, httpServer: { port: 0 }, chain: { rpcUrl: anvil.rpcUrl, contracts: addresses } }),
    baseDir: dir,
    embedded: true,
  };
  const gw = await startGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
  const wallet = gw.ctx.chain!.wallet;
  await provider.send("anvil_setBalance", [wallet.address, "0x3635C9ADC5DEA00000"]);
  const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, admin);
  const tx = await registry.getFunction("register")(wallet.address, name, vat, role, wallet.encryptionPublicKeyPem);
  await waitForReceipt(provider, tx.hash);
  await until(`${name} indexed`, async () => {
    gw.indexer.kick();
    return gw.ctx.store.findOrganization(wallet.address);
  });
  return gw;
}

async function rest(gw: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${BASE}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Kicks both indexers and polls `fn` until it returns something. */
function settle<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  return until(what, async () => {
    for (const gw of [a, b, c]) gw.indexer.kick();
    return fn();
  });
}

beforeAll(async () => {
  anvil = await startAnvil({ mixedMiningSeconds: 0.5 });
  provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  admin = new NonceManager(localAdmin(provider));
  addresses = await deployAll(admin);
  a = await startOrg("Forwarder A", A_VAT, Role.Forwarder);
  b = await startOrg("Transporter B", B_VAT, Role.Transporter);
  c = await startOrg("Transporter C", C_VAT, Role.Transporter);
}, 120_000);

afterAll(async () => {
  for (const gw of [a, b, c]) await gw?.stop();
  provider?.destroy();
  await anvil?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("connections between two gateways", () => {
  it("A invites B with a reference, B accepts, and both list the connection", async () => {
    const created = await rest(a, "POST", "/invitations", {
      reference: "CUST-42",
      name: "Transporter B",
      vat: "nl 0000.00102B01",
      contactEmail: "ops@b.example",
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      reference: "CUST-42",
      vat: B_VAT,
      status: "pending",
      direction: "outgoing",
      inviter: getAddress(a.ctx.chain!.wallet.address),
      inviterName: "Forwarder A",
    });
    const id = created.body.id as string;
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);

    // B sees it over gRPC once the invitation is mined and indexed.
    const client = createClient(ConnectionService, createGrpcTransport({ baseUrl: b.url }));
    const incoming = await settle("B's incoming invitation", async () => {
      const res = await client.listInvitations({ direction: InvitationDirection.INCOMING });
      return res.invitations.find((i) => i.id === id);
    });
    expect(incoming).toMatchObject({ vat: B_VAT, status: InvitationStatus.PENDING, inviterVat: A_VAT, name: "Transporter B" });
    expect(incoming.reference).toBeUndefined();

    const accepted = await rest(b, "PUT", `/invitations/${id}/accept`);
    expect(accepted.status).toBeLessThan(300);
    expect(accepted.body).toMatchObject({ id, direction: "incoming" });

    const aConnections = await settle("A's connection", async () => {
      const res = await rest(a, "GET", "/connections");
      return res.body.length > 0 ? res.body : undefined;
    });
    expect(aConnections).toEqual([
      {
        reference: "CUST-42",
        name: "Transporter B",
        vat: B_VAT,
        address: getAddress(b.ctx.chain!.wallet.address),
        publicKey: b.ctx.chain!.wallet.encryptionPublicKeyPem,
      },
    ]);
    const bConnections = await settle("B's connection", async () => {
      const res = await rest(b, "GET", "/connections");
      return res.body.length > 0 ? res.body : undefined;
    });
    expect(bConnections).toEqual([
      {
        reference: null,
        name: "Forwarder A",
        vat: A_VAT,
        address: getAddress(a.ctx.chain!.wallet.address),
        publicKey: a.ctx.chain!.wallet.encryptionPublicKeyPem,
      },
    ]);

    // Both sides record the invitation as accepted.
    await settle("accepted on both sides", async () => {
      const out = (await rest(a, "GET", "/invitations?status=accepted")).body as { id: string }[];
      const inc = (await rest(b, "GET", "/invitations?direction=incoming&status=accepted")).body as { id: string }[];
      return out.some((i) => i.id === id) && inc.some((i) => i.id === id) ? true : undefined;
    });

    // Inviting an organisation already connected: 409.
    const again = await rest(a, "POST", "/invitations", { name: "B", vat: B_VAT, contactEmail: "ops@b.example" });
    expect(again.status).toBe(409);

    // Answering again: the invitation is no longer pending.
    const twice = await rest(b, "PUT", `/invitations/${id}/refuse`);
    expect(twice.status).toBe(409);
    expect(twice.body.description).toContain("already accepted");
  });

  it("C refuses A's invitation; a second invitation to the same VAT while pending is 409", async () => {
    const created = await rest(a, "POST", "/invitations", { name: "Transporter C", vat: C_VAT, contactEmail: "ops@c.example" });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ reference: null, status: "pending" });
    const id = created.body.id as string;

    const dup = await rest(a, "POST", "/invitations", { name: "C again", vat: C_VAT, contactEmail: "x@c.example" });
    expect(dup.status).toBe(409);

    await settle("C's incoming invitation", async () => {
      const list = (await rest(c, "GET", "/invitations?direction=incoming&status=pending")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    // Only the invitee can answer: A cannot accept its own outgoing invitation.
    expect((await rest(a, "PUT", `/invitations/${id}/accept`)).status).toBe(404);

    const refused = await rest(c, "PUT", `/invitations/${id}/refuse`);
    expect(refused.status).toBeLessThan(300);
    await settle("refused on A's side", async () => {
      const list = (await rest(a, "GET", "/invitations?direction=outgoing&status=refused")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    expect((await rest(c, "GET", "/connections")).body).toEqual([]);
    expect(((await rest(a, "GET", "/connections")).body as { vat: string }[]).map((x) => x.vat)).toEqual([B_VAT]);
  });

  it("an invitation to a VAT not registered yet awaits registration", async () => {
    const created = await rest(a, "POST", "/invitations", { name: "Newcomer", vat: "FR12345678901", contactEmail: "hi@new.example" });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: "awaitingRegistration", invitee: null });
  });

  it("refuses bad input with 400 naming the field", async () => {
    const ok = { reference: "r", name: "Somebody", vat: "BE0999999999", contactEmail: "a@b.example" };
    const self = await rest(a, "POST", "/invitations", { ...ok, vat: A_VAT });
    expect(self.status).toBe(400);
    expect(self.body.description).toMatch(/\bvat\b/);

    for (const field of ["name", "vat", "contactEmail"] as const) {
      const missing = await rest(a, "POST", "/invitations", { ...ok, [field]: "" });
      expect(missing.status, field).toBe(400);
      expect(missing.body.description, field).toContain(field);
    }
    for (const field of ["reference", "name", "vat", "contactEmail"] as const) {
      const long = await rest(a, "POST", "/invitations", { ...ok, [field]: "x".repeat(256) });
      expect(long.status, field).toBe(400);
      expect(long.body.description, field).toContain(field);
    }
    const badVat = await rest(a, "POST", "/invitations", { ...ok, vat: "12345" });
    expect(badVat.status).toBe(400);
    expect(badVat.body.description).toContain("vat");
    const badEmail = await rest(a, "POST", "/invitations", { ...ok, contactEmail: "nobody" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.description).toContain("contactEmail");
    const badId = await rest(b, "PUT", "/invitations/nope/accept");
    expect(badId.status).toBe(400);
  });
});
