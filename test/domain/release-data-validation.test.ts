import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { checkPincode, checkReleaseData, keepFixedFields, type ReleaseDataInput } from "../../src/domain/releases/release-data-validation.js";
import { specReleaseData } from "../support/gateway.js";

/** The field an input is refused for, or "" when accepted. */
function refusedField(fn: () => unknown): string {
  try {
    fn();
    return "";
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
}

const minimal = (): ReleaseDataInput => ({ billOfLading: { blNumber: "BL-1" }, container: { containerNumber: "CSQU3054383" } });

describe("release data, as the carrier sends it", () => {
  it("the specification's example passes unchanged", () => {
    const data = specReleaseData();
    expect(checkReleaseData(data)).toEqual(data);
  });

  it("blNumber and containerNumber are the only mandatory fields; the rest default to empty and null", () => {
    const data = checkReleaseData(minimal());
    expect(data.billOfLading).toEqual({
      blNumber: "BL-1",
      portOfLoading: "",
      portOfDestination: "",
      vessel: "",
      agent: "",
      stayNumber: "",
      lloydsNumber: "",
      voyageNumber: "",
    });
    expect(data.container).toMatchObject({ containerNumber: "CSQU3054383", termsAndConditions: "", validFrom: null, validUntil: null });
  });

  it.each([
    ["no release data", undefined, "release_data"],
    ["no bill of lading", { container: { containerNumber: "C1" } }, "release_data.billOfLading.blNumber"],
    ["a blank blNumber", { billOfLading: { blNumber: "   " }, container: { containerNumber: "C1" } }, "release_data.billOfLading.blNumber"],
    ["no container", { billOfLading: { blNumber: "BL-1" } }, "release_data.container.containerNumber"],
    ["an empty containerNumber", { billOfLading: { blNumber: "BL-1" }, container: { containerNumber: "" } }, "release_data.container.containerNumber"],
  ] as const)("%s is refused, naming the field", (_what, input, field) => {
    expect(refusedField(() => checkReleaseData(input as ReleaseDataInput | undefined))).toBe(field);
  });

  it.each([
    ["billOfLading", "vessel"],
    ["billOfLading", "agent"],
    ["billOfLading", "blNumber"],
    ["container", "pickupLocation"],
    ["container", "pickupLoCode"],
    ["container", "turnInReference"],
    ["container", "isoTypeCode"],
  ] as const)("%s.%s: 255 characters pass, 256 are refused", (part, key) => {
    const at = (n: number): ReleaseDataInput => {
      const input = minimal();
      (input[part] as Record<string, unknown>)[key] = "x".repeat(n);
      return input;
    };
    expect(refusedField(() => checkReleaseData(at(255)))).toBe("");
    expect(refusedField(() => checkReleaseData(at(256)))).toBe(`release_data.${part}.${key}`);
  });

  it("termsAndConditions, an HTML object, has no length limit", () => {
    const input = minimal();
    input.container!.termsAndConditions = `<p>${"x".repeat(100_000)}</p>`;
    expect(checkReleaseData(input).container.termsAndConditions).toHaveLength(100_007);
  });

  it("validFrom may equal validUntil but not follow it", () => {
    const at = (from: string, until: string): ReleaseDataInput => ({
      ...minimal(),
      container: { containerNumber: "C1", validFrom: new Date(from), validUntil: new Date(until) },
    });
    expect(refusedField(() => checkReleaseData(at("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z")))).toBe("");
    expect(refusedField(() => checkReleaseData(at("2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z")))).toBe("release_data.container.validUntil");
  });

  it("one date alone is fine; an invalid date is refused", () => {
    expect(checkReleaseData({ ...minimal(), container: { containerNumber: "C1", validUntil: new Date("2030-01-01T00:00:00Z") } }).container).toMatchObject({
      validFrom: null,
      validUntil: new Date("2030-01-01T00:00:00Z"),
    });
    expect(refusedField(() => checkReleaseData({ ...minimal(), container: { containerNumber: "C1", validFrom: new Date(Number.NaN) } }))).toBe(
      "release_data.container.validFrom",
    );
  });

  it("a non-text value is refused", () => {
    const input = { billOfLading: { blNumber: 42 }, container: { containerNumber: "C1" } } as unknown as ReleaseDataInput;
    expect(refusedField(() => checkReleaseData(input))).toBe("release_data.billOfLading.blNumber");
  });

  it("the field prefix can be chosen", () => {
    expect(refusedField(() => checkReleaseData({ container: { containerNumber: "C1" } }, "data"))).toBe("data.billOfLading.blNumber");
  });
});

describe("the pincode", () => {
  it.each(["123456", "A1B2C3", "x".repeat(255)])("%s is accepted", (pin) => {
    expect(checkPincode("pincode", pin)).toBe(pin);
  });

  it.each([
    ["empty", ""],
    ["with a space", "123 456"],
    ["with punctuation", "12-34"],
    ["256 characters", "1".repeat(256)],
    ["non-ASCII letters", "12é4"],
  ])("%s is refused", (_what, pin) => {
    expect(refusedField(() => checkPincode("pincode", pin))).toBe("pincode");
  });
});

describe("fields the carrier cannot update", () => {
  const current = specReleaseData();

  it("an update that leaves the agent empty keeps the current one", () => {
    const update = checkReleaseData({ ...minimal(), billOfLading: { blNumber: "BL-2" } });
    expect(keepFixedFields(update, current).billOfLading).toMatchObject({ blNumber: "BL-2", agent: current.billOfLading.agent });
  });

  it("the same agent is accepted; another is refused, naming the field", () => {
    const same = checkReleaseData({ ...minimal(), billOfLading: { blNumber: "BL-2", agent: current.billOfLading.agent } });
    expect(keepFixedFields(same, current).billOfLading.agent).toBe(current.billOfLading.agent);
    const other = checkReleaseData({ ...minimal(), billOfLading: { blNumber: "BL-2", agent: "Someone else" } });
    expect(refusedField(() => keepFixedFields(other, current))).toBe("release_data.billOfLading.agent");
  });
});
