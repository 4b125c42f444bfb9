import { describe, expect, it } from "vitest";
import { checkAssignee, checkBarge, type AssigneeInput } from "../../src/domain/releases/assignment.js";
import { InvalidArgumentError } from "../../src/domain/errors.js";

const NONE: AssigneeInput = { type: "", firstName: "", lastName: "", email: "", phone: "", identification: "", name: "", visitNumber: "" };
const DRIVER: AssigneeInput = {
  ...NONE,
  type: "driver",
  firstName: "Jan",
  lastName: "Peeters",
  email: "jan@example.org",
  phone: "+32 3 123 45 67",
  identification: "ALFA-123456",
};
const BARGE = { name: "Antigoon", identification: "205402090", visitNumber: "BTS2356" };

/** The field an InvalidArgumentError names, or a failure when something else happens. */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).field;
  }
  throw new Error("accepted");
}

describe("assign: a truck driver", () => {
  it("accepts the spec's body and drops what a driver does not have", () => {
    const driver = checkAssignee({ ...DRIVER, name: "ignored", visitNumber: "ignored" });
    expect(Object.keys(driver).sort()).toEqual(["email", "firstName", "identification", "lastName", "phone", "type"]);
    const { name: _name, visitNumber: _visitNumber, ...given } = DRIVER;
    expect(driver).toEqual(given);
  });

  it("email and phone are optional", () => {
    expect(checkAssignee({ ...DRIVER, email: "", phone: "" })).toMatchObject({ email: "", phone: "" });
  });

  it("trims the values", () => {
    expect(checkAssignee({ ...DRIVER, firstName: " Jan ", identification: " ALFA-123456\t" })).toMatchObject({
      firstName: "Jan",
      identification: "ALFA-123456",
    });
  });

  it.each(["firstName", "lastName", "identification"] as const)("names %s when it is missing or blank", (field) => {
    expect(fieldOf(() => checkAssignee({ ...DRIVER, [field]: "" }))).toBe(field);
    expect(fieldOf(() => checkAssignee({ ...DRIVER, [field]: "   " }))).toBe(field);
  });

  it("names type when it is missing", () => {
    expect(fieldOf(() => checkAssignee({ ...DRIVER, type: "" }))).toBe("type");
    expect(fieldOf(() => checkAssignee(NONE))).toBe("type");
  });

  it.each(["firstName", "lastName", "email", "phone", "identification"] as const)("names %s at 256 characters", (field) => {
    const long = field === "email" ? `${"x".repeat(244)}@example.org` : "x".repeat(256);
    expect(long).toHaveLength(256);
    expect(fieldOf(() => checkAssignee({ ...DRIVER, [field]: long }))).toBe(field);
  });

  it("accepts 255 characters", () => {
    expect(checkAssignee({ ...DRIVER, lastName: "x".repeat(255) })).toMatchObject({ lastName: "x".repeat(255) });
  });

  it("names email when it is not an e-mail address", () => {
    for (const email of ["jan", "jan@", "@example.org", "jan@example", "jan peeters@example.org"]) {
      expect(fieldOf(() => checkAssignee({ ...DRIVER, email })), email).toBe("email");
    }
  });

  it("says what a bad value is wrong with, in the message", () => {
    expect(() => checkAssignee({ ...DRIVER, firstName: "" })).toThrow("firstName: is required");
    expect(() => checkAssignee({ ...DRIVER, phone: "1".repeat(256) })).toThrow("phone: must be at most 255 characters");
  });
});

describe("assign with type barge, and assign_barge", () => {
  it("assign with type barge is a barge: name and identification mandatory, visitNumber optional", () => {
    expect(checkAssignee({ ...NONE, type: "barge", ...BARGE, firstName: "ignored" })).toEqual({ type: "barge", ...BARGE });
    expect(checkAssignee({ ...NONE, type: "barge", ...BARGE, visitNumber: "" })).toEqual({ type: "barge", ...BARGE, visitNumber: "" });
    expect(fieldOf(() => checkAssignee({ ...NONE, type: "barge", ...BARGE, name: "" }))).toBe("name");
    expect(fieldOf(() => checkAssignee({ ...NONE, type: "barge", ...BARGE, identification: "" }))).toBe("identification");
  });

  it("a barge sent as a driver (no type) is refused naming type", () => {
    expect(fieldOf(() => checkAssignee({ ...NONE, ...BARGE }))).toBe("type");
  });

  it("assign_barge needs no type", () => {
    expect(checkBarge(BARGE)).toEqual({ type: "barge", ...BARGE });
    expect(checkBarge({ ...BARGE, visitNumber: "" })).toEqual({ type: "barge", ...BARGE, visitNumber: "" });
  });

  it.each(["name", "identification"] as const)("assign_barge names %s when it is missing", (field) => {
    expect(fieldOf(() => checkBarge({ ...BARGE, [field]: "" }))).toBe(field);
  });

  it.each(["name", "identification", "visitNumber"] as const)("assign_barge names %s at 256 characters", (field) => {
    expect(fieldOf(() => checkBarge({ ...BARGE, [field]: "9".repeat(256) }))).toBe(field);
  });
});
