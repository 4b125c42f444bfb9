import { LIGHT_NAMES, type GreenLight, type GreenLights, type LightColor, type LightName } from "./model.js";

/**
 * The colour of each light's value, from the specification's green-light table (NxtPort's
 * certified pick-up variables for the Port of Antwerp). A value the table does not list is
 * gray: unknown, never a false green.
 */
export const LIGHT_COLORS: Record<LightName, Record<string, LightColor>> = {
  commercialrelease: { ok: "green", nok: "red", unknown: "gray", blocked: "red", expired: "red" },
  customs: {
    notreleased: "red",
    selectedforscan: "yellow",
    released: "green",
    transhipment: "yellow",
    portequalisation: "yellow",
    favv: "yellow",
    documentarycontrol: "red",
  },
  customsprogress: { unknown: "gray", partiallycleared: "yellow" },
  gateoperation: { unknown: "gray", gateoutreceived: "green", gateoutcancelled: "gray", gateincancelled: "gray" },
  pickuplight: { unknown: "gray", assigned: "green", revoked: "red" },
  terminaloperation: {
    unknown: "gray",
    loaded: "red",
    discharged: "green",
    loadcancelled: "gray",
    dischargecancelled: "gray",
    gatein: "green",
  },
  terminalready: { unknown: "gray", selectedforscan: "yellow", blocked: "red", released: "green", archived: "red" },
};

export function isLightName(name: string): name is LightName {
  return (LIGHT_NAMES as readonly string[]).includes(name);
}

export function colorOf(light: LightName, value: string): LightColor {
  return LIGHT_COLORS[light][value.toLowerCase()] ?? "gray";
}

/** Whether `value` is one the table documents for `light`. */
export function isKnownValue(light: LightName, value: string): boolean {
  return value.toLowerCase() in LIGHT_COLORS[light];
}

/**
 * The spec's total: green when commercial release, terminal discharge (terminaloperation),
 * terminal release (terminalready) and customs are all green; yellow when customs is yellow;
 * red in all other cases.
 */
export function totalOf(events: Record<LightName, GreenLight>): LightColor {
  const four: LightName[] = ["commercialrelease", "terminaloperation", "terminalready", "customs"];
  if (four.every((l) => events[l].color === "green")) return "green";
  if (events.customs.color === "yellow") return "yellow";
  return "red";
}

/** Lights as they stand before any feed reported: every light unknown (customs not released). */
export function initialGreenLights(source = ""): GreenLights {
  const events = Object.fromEntries(
    LIGHT_NAMES.map((l) => {
      const value = l === "customs" ? "notreleased" : "unknown";
      return [l, { color: colorOf(l, value), value, updatedAt: "" }];
    }),
  ) as Record<LightName, GreenLight>;
  return { total: totalOf(events), events, source };
}

/**
 * Applies reported values (light → value, as the feed spells them, with the feed's time),
 * recomputing every colour and the total from the table.
 */
export function applyLights(
  current: GreenLights,
  updates: Partial<Record<LightName, { value: string; updatedAt: string }>>,
  source: string,
): GreenLights {
  const events = { ...current.events };
  for (const [name, update] of Object.entries(updates) as [LightName, { value: string; updatedAt: string }][]) {
    const value = update.value.toLowerCase();
    events[name] = { color: colorOf(name, value), value, updatedAt: update.updatedAt };
  }
  return { total: totalOf(events), events, source };
}
