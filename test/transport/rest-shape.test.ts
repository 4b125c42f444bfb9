import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPEC_CARRIER, SPEC_SELF, specRelease, specReleaseRecord, startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;

/** Keys and JSON types, recursively: "what shape is this". */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

/** The fields the spec's field table documents beyond its example. */
const DOCUMENTED_EXTRAS = {
  previousOwnerName: SPEC_CARRIER.name,
  previousOwnerVat: SPEC_CARRIER.vat,
  nextOwnerName: null,
  nextOwnerVat: null,
  selfOwner: SPEC_SELF.address,
  selfOwnerName: SPEC_SELF.name,
  selfOwnerVat: SPEC_SELF.vat,
};

beforeAll(async () => {
  gw = await startTestGateway(SPEC_SELF);
  gw.store.upsertOrganization(SPEC_CARRIER);
  gw.store.upsertOrganization(SPEC_SELF);
  gw.store.upsertRelease(specReleaseRecord());
});
afterAll(() => gw.stop());

describe("REST JSON is the spec's, key for key", () => {
  it("GET /releases/{address} equals the documented example plus the documented extra fields", async () => {
    const res = await fetch(`${gw.rest}/releases/${specRelease.address}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    const expected = {
      ...specRelease,
      release_data: {
        ...specRelease.release_data,
        container: { ...specRelease.release_data.container, pickupLoCode: "BEANR", turnInLoCode: "BEANR" },
      },
      ...DOCUMENTED_EXTRAS,
    };
    expect(body).toEqual(expected);
    // Same keys, same nesting, same JSON types — null stays null, [] stays [].
    expect(shape(body)).toEqual(shape(expected));
    expect(body.gateOut).toBeNull();
    expect(body.nextOwner).toBeNull();
    expect(body.conditions).toEqual([]);
  });

  it("GET /releases is a bare JSON array of the same objects", async () => {
    const list = await (await fetch(`${gw.rest}/releases`)).json();
    const one = await (await fetch(`${gw.rest}/releases/${specRelease.address}`)).json();
    expect(Array.isArray(list)).toBe(true);
    expect(list).toEqual([one]);
  });

  it("GET /releases filters with AND and pages", async () => {
    const second = specReleaseRecord({
      address: "0x1111111111111111111111111111111111111111",
      createdAt: new Date("2022-01-01T00:00:00Z"),
      updatedAt: new Date("2023-01-01T00:00:00Z"),
    });
    second.data = { ...second.data, container: { ...second.data.container, containerNumber: "MSCU1234565" } };
    gw.store.upsertRelease(second);
    const get = async (q: string) =>
      ((await (await fetch(`${gw.rest}/releases?${q}`)).json()) as { address: string }[]).map((r) => r.address.toLowerCase());
    const a = specRelease.address.toLowerCase();
    const b = second.address;
    expect(await get("")).toEqual([a, b]);
    expect(await get("container=MSCU1234565")).toEqual([b]);
    expect(await get("bl=RELEASE-API-TEST-1612&container=CSQU32345690")).toEqual([a]);
    expect(await get("bl=OTHER&container=CSQU32345690")).toEqual([]);
    expect(await get("limit=1&page=1")).toEqual([a]);
    expect(await get("limit=1&page=2")).toEqual([b]);
    expect(await get("limit=1&page=3")).toEqual([]);
    expect(await get("since=2022-06-01T00:00:00.000Z")).toEqual([b]);
    expect(await get(`since=${Date.parse("2022-06-01T00:00:00Z")}`)).toEqual([b]);
  });

  it("a release outside the caller's chain does not exist for it: 404", async () => {
    gw.store.upsertRelease(
      specReleaseRecord({
        address: "0x2222222222222222222222222222222222222222",
        owners: [SPEC_CARRIER.address, "0x3333333333333333333333333333333333333333"],
      }),
    );
    const res = await fetch(`${gw.rest}/releases/0x2222222222222222222222222222222222222222`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 5, description: expect.stringContaining("not found") });
  });
});
