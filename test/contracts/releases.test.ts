import { ZeroAddress, getAddress, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, decodeRevert, deployAll } from "../../src/adapters/chain/evm/contracts.js";
import { type ScrClient, type TestAnvil, scrClient, startTestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
let scr: ScrClient;

// accounts: 0 admin, 1 carrier, 2 forwarder F1, 3 forwarder F2, 4 transporter, 5 terminal,
//           6 port system, 7 second terminal, 8 never registered, 9 second carrier
const w = (i: number) => chain.wallet(i);
const admin = () => w(0);
const carrier = () => w(1);
const f1 = () => w(2);
const f2 = () => w(3);
const transporter = () => w(4);
const terminal = () => w(5);
const portSystem = () => w(6);
const terminal2 = () => w(7);
const outsider = () => w(8);
const carrier2 = () => w(9);

const newReleaseId = (): string => getAddress(hexlify(randomBytes(20)));
/** Stand-ins for the encrypted blobs the gateway produces. */
const blob = (tag: string): string => hexlify(new TextEncoder().encode(tag));
const SEALED = blob("sealed-v1");

async function create(opts: { terminal?: string; id?: string } = {}): Promise<string> {
  const id = opts.id ?? newReleaseId();
  await scr.send(carrier(), "releaseRegistry", "create", id, opts.terminal ?? terminal().address, SEALED, blob("key:carrier"), blob("pin:carrier"), blob("pin:terminal"));
  return id;
}

async function transfer(from: ReturnType<typeof w>, id: string, to: ReturnType<typeof w>) {
  return scr.send(from, "releaseRegistry", "transfer", id, to.address, blob(`key:${to.address}`), blob(`pin:${to.address}`));
}

const release = (id: string) => scr.read("releaseRegistry", "getRelease", id);
const owners = async (id: string): Promise<string[]> => [...(await scr.read("releaseRegistry", "getOwners", id))];

async function connect(a: ReturnType<typeof w>, b: ReturnType<typeof w>, vatOfB: string) {
  const id = hexlify(randomBytes(32));
  await scr.send(a, "connections", "invite", id, vatOfB, "name", "mail@example.com");
  await scr.send(b, "connections", "accept", id);
}

beforeAll(async () => {
  chain = await startTestAnvil();
  scr = scrClient(chain, await deployAll(admin()));
  const orgs: [number, string, number][] = [
    [1, "BE01", Role.Carrier],
    [2, "BE02", Role.Forwarder],
    [3, "BE03", Role.Forwarder],
    [4, "BE04", Role.Transporter],
    [5, "BE05", Role.Terminal],
    [6, "BE06", Role.PortSystem],
    [7, "BE07", Role.Terminal],
    [9, "BE09", Role.Carrier],
  ];
  for (const [i, vat, role] of orgs) {
    await scr.send(admin(), "organizationRegistry", "register", w(i).address, `org ${i}`, vat, role, `pem-${i}`);
  }
  await connect(carrier(), f1(), "BE02");
  await connect(f1(), transporter(), "BE04");
  await connect(carrier(), f2(), "BE03");
});

afterAll(async () => {
  await chain?.stop();
});

describe("create", () => {
  it("a registered carrier creates a release; it is creator and first owner", async () => {
    const id = newReleaseId();
    expect(await scr.read("releaseRegistry", "exists", id)).toBe(false);
    const receipt = await scr.send(carrier(), "releaseRegistry", "create", id, terminal().address, SEALED, blob("key:carrier"), blob("pin:carrier"), blob("pin:terminal"));
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseCreated", args: { id, creator: carrier().address } }]);

    const r = await release(id);
    expect(r.creator).toBe(carrier().address);
    expect([...r.owners]).toEqual([carrier().address]);
    expect(r.terminal).toBe(terminal().address);
    expect([r.blocked, r.deleted, r.pinRetrieved]).toEqual([false, false, false]);
    expect(r.gateOut).toBe(0n);
    expect(r.version).toBe(1n);
    expect(r.createdAt).toBeGreaterThan(0n);
    expect(r.updatedAt).toBe(r.createdAt);
    expect([r.sealedData, r.encryptedPin, r.pinForTerminal, r.assignment, r.greenLights]).toEqual([
      SEALED,
      blob("pin:carrier"),
      blob("pin:terminal"),
      "0x",
      "0x",
    ]);
    expect(await scr.read("releaseRegistry", "exists", id)).toBe(true);
    expect(await scr.read("releaseRegistry", "ownerOf", id)).toBe(carrier().address);
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, carrier().address)).toBe(blob("key:carrier"));
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, f1().address)).toBe("0x");
  });

  it("a release without terminal may be created", async () => {
    const id = await create({ terminal: ZeroAddress });
    expect((await release(id)).terminal).toBe(ZeroAddress);
  });

  it("only a registered carrier creates", async () => {
    for (const who of [f1(), terminal(), outsider()]) {
      const err = await scr.reverts(who, "releaseRegistry", "create", newReleaseId(), ZeroAddress, SEALED, "0x01", "0x02", "0x03");
      expect(err.name).toBe("NotCarrier");
      expect(err.args.caller).toBe(who.address);
      expect(err.message).toBe("only a registered carrier can create releases");
    }
  });

  it("the id must be new and non-zero, the terminal a registered terminal", async () => {
    const id = await create();
    let err = await scr.reverts(carrier2(), "releaseRegistry", "create", id, ZeroAddress, SEALED, "0x01", "0x02", "0x03");
    expect(err.name).toBe("ReleaseAlreadyExists");
    expect(err.args.id).toBe(id);
    err = await scr.reverts(carrier(), "releaseRegistry", "create", ZeroAddress, ZeroAddress, SEALED, "0x01", "0x02", "0x03");
    expect(err.name).toBe("InvalidReleaseId");
    err = await scr.reverts(carrier(), "releaseRegistry", "create", newReleaseId(), f1().address, SEALED, "0x01", "0x02", "0x03");
    expect(err.name).toBe("TerminalNotRegistered");
    expect(err.args.terminal).toBe(f1().address);
  });

  it("reads of an unknown release revert with ReleaseNotFound", async () => {
    const id = newReleaseId();
    const err = await scr.reverts(carrier(), "releaseRegistry", "getRelease", id);
    expect(err.name).toBe("ReleaseNotFound");
    expect((await scr.reverts(carrier(), "releaseRegistry", "transfer", id, f1().address, "0x", "0x")).name).toBe("ReleaseNotFound");
  });
});

describe("creator actions", () => {
  it("the creator updates sealed data and re-wraps keys for chain members and the terminal", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    const parties = [carrier().address, f1().address, terminal().address];
    const keys = parties.map((p) => blob(`key2:${p}`));
    const receipt = await scr.send(carrier(), "releaseRegistry", "update", id, blob("sealed-v2"), parties, keys);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseUpdated", args: { id } }]);
    const r = await release(id);
    expect(r.sealedData).toBe(blob("sealed-v2"));
    expect(r.version).toBe(3n);
    for (const p of parties) expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, p)).toBe(blob(`key2:${p}`));
  });

  it("update: only the creator, keys only for parties, as many keys as parties", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    let err = await scr.reverts(f1(), "releaseRegistry", "update", id, blob("x"), [], []);
    expect(err.name).toBe("NotCreator");
    expect(err.args.caller).toBe(f1().address);
    expect(err.message).toBe("only the creator can update this release");

    err = await scr.reverts(carrier(), "releaseRegistry", "update", id, blob("x"), [f2().address], ["0x01"]);
    expect(err.name).toBe("NotAParty");
    expect(err.args).toEqual({ id, account: f2().address });

    err = await scr.reverts(carrier(), "releaseRegistry", "update", id, blob("x"), [f1().address], []);
    expect(err.name).toBe("LengthMismatch");
    expect(err.args).toEqual({ parties: 1n, wrappedKeys: 0n });
  });

  it("the creator blocks and unblocks; not twice in a row; nobody else", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());

    let err = await scr.reverts(f1(), "releaseRegistry", "blockRelease", id);
    expect(err.name).toBe("NotCreator");
    expect(err.message).toBe("only the creator can block this release");

    let receipt = await scr.send(carrier(), "releaseRegistry", "blockRelease", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseBlocked", args: { id } }]);
    expect((await release(id)).blocked).toBe(true);
    err = await scr.reverts(carrier(), "releaseRegistry", "blockRelease", id);
    expect(err.name).toBe("ReleaseAlreadyBlocked");

    err = await scr.reverts(f1(), "releaseRegistry", "unblockRelease", id);
    expect(err.name).toBe("NotCreator");
    expect(err.message).toBe("only the creator can unblock this release");

    receipt = await scr.send(carrier(), "releaseRegistry", "unblockRelease", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseUnblocked", args: { id } }]);
    expect((await release(id)).blocked).toBe(false);
    err = await scr.reverts(carrier(), "releaseRegistry", "unblockRelease", id);
    expect(err.name).toBe("ReleaseNotBlocked");
  });

  it("only the creator deletes, and a deleted release is final", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    await scr.send(f1(), "releaseRegistry", "assign", id, blob("driver"));

    let err = await scr.reverts(f1(), "releaseRegistry", "deleteRelease", id);
    expect(err.name).toBe("NotCreator");
    expect(err.message).toBe("only the creator can delete this release");

    const receipt = await scr.send(carrier(), "releaseRegistry", "deleteRelease", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseDeleted", args: { id } }]);
    const r = await release(id);
    expect(r.deleted).toBe(true);
    expect([...r.owners]).toEqual([carrier().address, f1().address]);

    const attempts: [ReturnType<typeof w>, string, unknown[]][] = [
      [carrier(), "update", [id, blob("x"), [], []]],
      [carrier(), "blockRelease", [id]],
      [carrier(), "unblockRelease", [id]],
      [carrier(), "deleteRelease", [id]],
      [carrier(), "setPin", [id, blob("pin"), false]],
      [carrier(), "setTerminal", [id, ZeroAddress, "0x"]],
      [f1(), "transfer", [id, transporter().address, "0x01", "0x02"]],
      [f1(), "assign", [id, blob("driver2")]],
      [f1(), "unassign", [id]],
      [f1(), "markPinRetrieved", [id]],
      [carrier(), "revoke", [id]],
      [terminal(), "recordGateOut", [id, 1_700_000_000]],
      [portSystem(), "setGreenLights", [id, blob("{}")]],
    ];
    for (const [who, fn, args] of attempts) {
      err = await scr.reverts(who, "releaseRegistry", fn as "update", ...args);
      expect(err.name, fn).toBe("ReleaseIsDeleted");
      expect(err.args.id).toBe(id);
    }
    // and it cannot be created again
    err = await scr.reverts(carrier(), "releaseRegistry", "create", id, ZeroAddress, SEALED, "0x01", "0x02", "0x03");
    expect(err.name).toBe("ReleaseAlreadyExists");
  });

  it("the creator changes the terminal (and the pin wrapped for it); nobody else; only to a terminal", async () => {
    const id = await create();
    const receipt = await scr.send(carrier(), "releaseRegistry", "setTerminal", id, terminal2().address, blob("pin:t2"));
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "TerminalUpdated", args: { id, terminal: terminal2().address } }]);
    const r = await release(id);
    expect([r.terminal, r.pinForTerminal]).toEqual([terminal2().address, blob("pin:t2")]);

    let err = await scr.reverts(terminal2(), "releaseRegistry", "setTerminal", id, terminal().address, "0x");
    expect(err.name).toBe("NotCreator");
    expect(err.message).toBe("only the creator can change the terminal of this release");
    err = await scr.reverts(carrier(), "releaseRegistry", "setTerminal", id, portSystem().address, "0x");
    expect(err.name).toBe("TerminalNotRegistered");
  });
});

describe("transfer", () => {
  it("the current owner transfers to a connection; the chain grows, the pin is re-wrapped", async () => {
    const id = await create();
    let receipt = await transfer(carrier(), id, f1());
    expect(scr.events(receipt, "releaseRegistry")).toEqual([
      { name: "ReleaseTransferred", args: { id, from: carrier().address, to: f1().address } },
    ]);
    receipt = await transfer(f1(), id, transporter());
    expect(await owners(id)).toEqual([carrier().address, f1().address, transporter().address]);
    expect(await scr.read("releaseRegistry", "ownerOf", id)).toBe(transporter().address);
    const r = await release(id);
    expect(r.encryptedPin).toBe(blob(`pin:${transporter().address}`));
    expect(r.version).toBe(3n);
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, transporter().address)).toBe(blob(`key:${transporter().address}`));
  });

  it("only the current owner transfers", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    for (const who of [carrier(), f2(), outsider()]) {
      const err = await scr.reverts(who, "releaseRegistry", "transfer", id, transporter().address, "0x01", "0x02");
      expect(err.name).toBe("NotCurrentOwner");
      expect(err.args).toMatchObject({ id, caller: who.address, owner: f1().address });
      expect(err.message).toBe("only the current owner can transfer this release");
    }
  });

  it("only to an organisation connected with the current owner", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    for (const to of [f2().address, outsider().address, ZeroAddress]) {
      const err = await scr.reverts(f1(), "releaseRegistry", "transfer", id, to, "0x01", "0x02");
      expect(err.name).toBe("NotConnected");
      expect(err.args).toEqual({ owner: f1().address, to });
    }
  });

  it("not to an organisation already in the chain", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    const err = await scr.reverts(f1(), "releaseRegistry", "transfer", id, carrier().address, "0x01", "0x02");
    expect(err.name).toBe("AlreadyInChain");
    expect(err.args).toEqual({ id, account: carrier().address });
  });

  it("no transfer once the pin has been retrieved", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    await scr.send(f1(), "releaseRegistry", "markPinRetrieved", id);
    const err = await scr.reverts(f1(), "releaseRegistry", "transfer", id, transporter().address, "0x01", "0x02");
    expect(err.name).toBe("PinAlreadyRetrieved");
    expect(err.message).toMatch(/can no longer be transferred/);
  });
});

describe("pin", () => {
  it("only the current owner marks the pin retrieved, once", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    let err = await scr.reverts(carrier(), "releaseRegistry", "markPinRetrieved", id);
    expect(err.name).toBe("NotCurrentOwner");
    expect(err.message).toBe("only the current owner can retrieve the pincode of this release");

    const receipt = await scr.send(f1(), "releaseRegistry", "markPinRetrieved", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "PinRetrieved", args: { id, by: f1().address } }]);
    expect((await release(id)).pinRetrieved).toBe(true);

    err = await scr.reverts(f1(), "releaseRegistry", "markPinRetrieved", id);
    expect(err.name).toBe("PinAlreadyRetrieved");
  });

  it("only the creator sets the pin; rotated resets pinRetrieved so the release can move again", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    await scr.send(f1(), "releaseRegistry", "markPinRetrieved", id);
    await scr.send(carrier(), "releaseRegistry", "revoke", id);

    let err = await scr.reverts(f1(), "releaseRegistry", "setPin", id, blob("pin"), true);
    expect(err.name).toBe("NotCreator");
    expect(err.message).toBe("only the creator can set the pincode of this release");

    let receipt = await scr.send(carrier(), "releaseRegistry", "setPin", id, blob("pin:new"), true);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "PinUpdated", args: { id, rotated: true } }]);
    let r = await release(id);
    expect([r.encryptedPin, r.pinRetrieved]).toEqual([blob("pin:new"), false]);
    await transfer(carrier(), id, f2());

    // not rotated: pinRetrieved stays as it is
    await scr.send(f2(), "releaseRegistry", "markPinRetrieved", id);
    receipt = await scr.send(carrier(), "releaseRegistry", "setPin", id, blob("pin:same"), false);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "PinUpdated", args: { id, rotated: false } }]);
    r = await release(id);
    expect([r.encryptedPin, r.pinRetrieved]).toEqual([blob("pin:same"), true]);
  });

  it("after a revoke the pin is unavailable until the creator re-wraps it", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    await transfer(f1(), id, transporter());
    await scr.send(f1(), "releaseRegistry", "revoke", id);
    expect((await release(id)).encryptedPin).toBe("0x");
    const err = await scr.reverts(f1(), "releaseRegistry", "markPinRetrieved", id);
    expect(err.name).toBe("PinNotAvailable");

    await scr.send(carrier(), "releaseRegistry", "setPin", id, blob("pin:f1"), false);
    await scr.send(f1(), "releaseRegistry", "markPinRetrieved", id);
  });
});

describe("revoke", () => {
  it("an earlier owner revokes: it owns the release again and the chain is cut after it", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    await transfer(f1(), id, transporter());

    let receipt = await scr.send(f1(), "releaseRegistry", "revoke", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([
      { name: "ReleaseRevoked", args: { id, by: f1().address, from: transporter().address } },
    ]);
    expect(await owners(id)).toEqual([carrier().address, f1().address]);
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, transporter().address)).toBe("0x");

    await scr.send(carrier(), "releaseRegistry", "setPin", id, blob("pin:f1"), false);
    await transfer(f1(), id, transporter());
    receipt = await scr.send(carrier(), "releaseRegistry", "revoke", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([
      { name: "ReleaseRevoked", args: { id, by: carrier().address, from: transporter().address } },
    ]);
    expect(await owners(id)).toEqual([carrier().address]);
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, f1().address)).toBe("0x");
    expect(await scr.read("releaseRegistry", "wrappedKeyOf", id, carrier().address)).toBe(blob("key:carrier"));

    // the carrier can now hand it to someone else
    await transfer(carrier(), id, f2());
    expect(await owners(id)).toEqual([carrier().address, f2().address]);
  });

  it("the current owner and outsiders cannot revoke", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    for (const who of [f1(), f2(), outsider()]) {
      const err = await scr.reverts(who, "releaseRegistry", "revoke", id);
      expect(err.name).toBe("NotEarlierOwner");
      expect(err.args).toEqual({ id, caller: who.address });
    }
    const fresh = await create();
    const err = await scr.reverts(carrier(), "releaseRegistry", "revoke", fresh);
    expect(err.name).toBe("NotEarlierOwner");
  });
});

describe("assignment", () => {
  it("the current owner assigns, re-assigns and unassigns", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    let receipt = await scr.send(f1(), "releaseRegistry", "assign", id, blob("driver:1"));
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseAssigned", args: { id, by: f1().address } }]);
    await scr.send(f1(), "releaseRegistry", "assign", id, blob("driver:2"));
    expect((await release(id)).assignment).toBe(blob("driver:2"));

    receipt = await scr.send(f1(), "releaseRegistry", "unassign", id);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "ReleaseUnassigned", args: { id, by: f1().address } }]);
    expect((await release(id)).assignment).toBe("0x");
  });

  it("only the current owner assigns or unassigns; not empty; not when unassigned", async () => {
    const id = await create();
    await transfer(carrier(), id, f1());
    let err = await scr.reverts(carrier(), "releaseRegistry", "assign", id, blob("driver"));
    expect(err.name).toBe("NotCurrentOwner");
    expect(err.message).toBe("only the current owner can assign this release");
    err = await scr.reverts(f1(), "releaseRegistry", "assign", id, "0x");
    expect(err.name).toBe("EmptyAssignment");
    err = await scr.reverts(f1(), "releaseRegistry", "unassign", id);
    expect(err.name).toBe("NotAssigned");

    await scr.send(f1(), "releaseRegistry", "assign", id, blob("driver"));
    err = await scr.reverts(transporter(), "releaseRegistry", "unassign", id);
    expect(err.name).toBe("NotCurrentOwner");
    expect(err.message).toBe("only the current owner can unassign this release");
  });
});

describe("terminal and port", () => {
  it("the release's terminal records the gate-out (0 cancels it); another terminal cannot", async () => {
    const id = await create();
    const receipt = await scr.send(terminal(), "releaseRegistry", "recordGateOut", id, 1_700_000_123);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "GateOut", args: { id, gateOutAt: 1_700_000_123n } }]);
    expect((await release(id)).gateOut).toBe(1_700_000_123n);

    const err = await scr.reverts(terminal2(), "releaseRegistry", "recordGateOut", id, 1_700_000_999);
    expect(err.name).toBe("NotReleaseTerminal");
    expect(err.args).toEqual({ id, caller: terminal2().address, terminal: terminal().address });
    expect(err.message).toBe(`only the release's terminal (${terminal().address}) can record its gate-out`);

    await scr.send(terminal(), "releaseRegistry", "recordGateOut", id, 0);
    expect((await release(id)).gateOut).toBe(0n);
  });

  it("without a terminal, any registered terminal records the gate-out; nobody else", async () => {
    const id = await create({ terminal: ZeroAddress });
    for (const who of [carrier(), portSystem(), outsider()]) {
      const err = await scr.reverts(who, "releaseRegistry", "recordGateOut", id, 1_700_000_000);
      expect(err.name).toBe("NotReleaseTerminal");
      expect(err.message).toBe("only a registered terminal can record the gate-out of this release");
    }
    await scr.send(terminal2(), "releaseRegistry", "recordGateOut", id, 1_700_000_000);
    expect((await release(id)).gateOut).toBe(1_700_000_000n);
  });

  it("registered terminals and port systems set green lights; others cannot", async () => {
    const id = await create();
    const lights = blob(JSON.stringify({ customs: { color: "green", value: "released" } }));
    let receipt = await scr.send(portSystem(), "releaseRegistry", "setGreenLights", id, lights);
    expect(scr.events(receipt, "releaseRegistry")).toEqual([{ name: "GreenLightsUpdated", args: { id } }]);
    expect((await release(id)).greenLights).toBe(lights);
    receipt = await scr.send(terminal2(), "releaseRegistry", "setGreenLights", id, blob("{}"));
    expect((await release(id)).greenLights).toBe(blob("{}"));

    for (const who of [carrier(), f1(), transporter(), outsider()]) {
      const err = await scr.reverts(who, "releaseRegistry", "setGreenLights", id, lights);
      expect(err.name).toBe("NotGreenLightsProvider");
      expect(err.args.caller).toBe(who.address);
    }
  });
});

describe("bookkeeping and decoding", () => {
  it("every change bumps the version and updatedAt", async () => {
    const id = await create();
    const before = await release(id);
    await chain.provider.send("evm_increaseTime", [60]);
    await scr.send(carrier(), "releaseRegistry", "blockRelease", id);
    const after = await release(id);
    expect(after.version).toBe(before.version + 1n);
    expect(after.updatedAt).toBeGreaterThan(before.updatedAt);
    expect(after.createdAt).toBe(before.createdAt);
  });

  it("decodeRevert reads revert data from staticCall, estimateGas and raw JSON-RPC errors", async () => {
    const id = await create();
    const rr = scr.contracts(f1()).releaseRegistry;
    let caught: unknown;
    try {
      await rr.getFunction("deleteRelease").staticCall(id);
    } catch (e) {
      caught = e;
    }
    expect(decodeRevert(caught)?.name).toBe("NotCreator");

    try {
      await chain.provider.send("eth_estimateGas", [
        { from: f1().address, to: scr.addresses.releaseRegistry, data: rr.interface.encodeFunctionData("deleteRelease", [id]) },
      ]);
    } catch (e) {
      caught = e;
    }
    const decoded = decodeRevert(caught);
    expect(decoded?.name).toBe("NotCreator");
    expect(decoded?.args).toMatchObject({ id, caller: f1().address });

    expect(decodeRevert(new Error("socket hang up"))).toBeUndefined();
    expect(decodeRevert({ data: "0xdeadbeef" })).toBeUndefined();
  });
});
