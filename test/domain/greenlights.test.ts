import { describe, expect, it } from "vitest";
import { applyLights, colorOf, initialGreenLights, totalOf } from "../../src/domain/releases/greenlights.js";
import specRelease from "../fixtures/spec-release.json" with { type: "json" };
import type { GreenLights } from "../../src/domain/releases/model.js";

describe("green lights, per the spec's table", () => {
  it.each([
    ["customs", "selectedforscan", "yellow"],
    ["customs", "released", "green"],
    ["customs", "documentarycontrol", "red"],
    ["commercialrelease", "expired", "red"],
    ["pickuplight", "assigned", "green"],
    ["gateoperation", "gateoutcancelled", "gray"],
    ["terminaloperation", "gatein", "green"],
    ["terminalready", "archived", "red"],
    ["customsprogress", "partiallycleared", "yellow"],
    ["customs", "somethingnew", "gray"],
  ] as const)("%s %s is %s", (light, value, color) => {
    expect(colorOf(light, value)).toBe(color);
  });

  it("the spec's example lights total green", () => {
    expect(totalOf((specRelease.greenLights as GreenLights).events)).toBe("green");
  });

  it("total is yellow when customs is yellow, whatever the rest", () => {
    const g = applyLights(initialGreenLights(), { customs: { value: "selectedforscan", updatedAt: "2023-07-10 13:00" } }, "NxtPort");
    expect(g.total).toBe("yellow");
    expect(g.events.customs).toEqual({ color: "yellow", value: "selectedforscan", updatedAt: "2023-07-10 13:00" });
    expect(g.source).toBe("NxtPort");
  });

  it("total is red until all four relevant lights are green, then green", () => {
    let g = initialGreenLights();
    expect(g.total).toBe("red");
    const at = "2023-07-10 12:00";
    g = applyLights(g, { commercialrelease: { value: "ok", updatedAt: at }, terminaloperation: { value: "discharged", updatedAt: at }, customs: { value: "released", updatedAt: at } }, "NxtPort");
    expect(g.total).toBe("red");
    g = applyLights(g, { terminalready: { value: "released", updatedAt: at } }, "NxtPort");
    expect(g.total).toBe("green");
    g = applyLights(g, { commercialrelease: { value: "nok", updatedAt: at } }, "NxtPort");
    expect(g.total).toBe("red");
  });
});
