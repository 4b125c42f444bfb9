import { describe, expect, it } from "vitest";
import { isVisibleTo, viewFor } from "../../src/domain/releases/view.js";
import { SPEC_CARRIER, SPEC_SELF, specReleaseRecord } from "../support/gateway.js";

const NEXT = { address: "0x1111111111111111111111111111111111111111", name: "Next NV", vat: "BE0111111111" };
const lookup = (a: string) => [SPEC_CARRIER, SPEC_SELF, NEXT].find((o) => o.address.toLowerCase() === a.toLowerCase());

describe("a release seen by one organisation", () => {
  it("places the caller in the ownership chain: previous, self and next owner", () => {
    const r = specReleaseRecord({ owners: [SPEC_CARRIER.address, SPEC_SELF.address, NEXT.address] });
    const v = viewFor(r, SPEC_SELF, lookup);
    expect([v.previousOwner?.name, v.selfOwner?.name, v.nextOwner?.name, v.owner]).toEqual([SPEC_CARRIER.name, SPEC_SELF.name, NEXT.name, NEXT.address]);
    const atNext = viewFor(r, NEXT, lookup);
    expect([atNext.previousOwner?.name, atNext.nextOwner]).toEqual([SPEC_SELF.name, null]);
  });

  it("shows containerStatus 'blocked' while the carrier blocks it, and the carrier's status otherwise", () => {
    const open = viewFor(specReleaseRecord(), SPEC_SELF, lookup);
    expect(open.data.container.containerStatus).toBe("released");
    const record = specReleaseRecord({ blocked: true });
    const blocked = viewFor(record, SPEC_SELF, lookup);
    expect(blocked.data.container.containerStatus).toBe("blocked");
    // The cached record keeps the carrier's own status for when the block is lifted.
    expect(record.data.container.containerStatus).toBe("released");
  });

  it("is visible to the parties of the chain and the terminal only", () => {
    const r = specReleaseRecord({ terminal: NEXT.address });
    expect([isVisibleTo(r, SPEC_SELF.address), isVisibleTo(r, NEXT.address.toUpperCase().replace("0X", "0x")), isVisibleTo(r, "0x2222222222222222222222222222222222222222")]).toEqual([true, true, false]);
  });
});
