import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { checksum } from "./checksum.js";
import type { GreenLight, LightColor, Organization, ReleaseView } from "../../domain/releases/model.js";
import { Color, type ReleaseSchema } from "../../../gen/scr/v1/release_pb.js";
import { ReleaseService } from "../../../gen/scr/v1/release_service_pb.js";

const COLORS: Record<LightColor, Color> = {
  gray: Color.GRAY,
  green: Color.GREEN,
  yellow: Color.YELLOW,
  red: Color.RED,
};

const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

function light(l: GreenLight) {
  return { color: COLORS[l.color], value: l.value, updatedAt: l.updatedAt };
}

function party(prefix: "previousOwner" | "nextOwner" | "selfOwner", org: Organization | null) {
  if (!org) return {};
  return { [prefix]: checksum(org.address), [`${prefix}Name`]: org.name, [`${prefix}Vat`]: org.vat };
}

export function releaseToProto(v: ReleaseView): MessageInitShape<typeof ReleaseSchema> {
  const { billOfLading: bl, container: c } = v.data;
  const e = v.greenLights.events;
  return {
    releaseData: {
      billOfLading: { ...bl },
      container: { ...c, validFrom: ts(c.validFrom), validUntil: ts(c.validUntil) },
    },
    address: checksum(v.address),
    deleted: v.deleted,
    blocked: v.blocked,
    encryptedPin: v.encryptedPin,
    gateOut: ts(v.gateOut),
    createdAt: ts(v.createdAt),
    updatedAt: ts(v.updatedAt),
    owner: checksum(v.owner),
    creator: checksum(v.creator),
    greenLights: {
      total: COLORS[v.greenLights.total],
      events: {
        customs: light(e.customs),
        pickuplight: light(e.pickuplight),
        gateoperation: light(e.gateoperation),
        terminalready: light(e.terminalready),
        customsprogress: light(e.customsprogress),
        commercialrelease: light(e.commercialrelease),
        terminaloperation: light(e.terminaloperation),
      },
      source: v.greenLights.source,
    },
    version: v.version,
    pinRetrieved: v.pinRetrieved,
    ...party("previousOwner", v.previousOwner),
    ...party("nextOwner", v.nextOwner),
    ...party("selfOwner", v.selfOwner),
    conditions: [],
  };
}

/** ReleaseService over the domain. The writes arrive with the chain layer. */
export function releaseService(ctx: AppContext): Partial<ServiceImpl<typeof ReleaseService>> {
  return {
    listReleases(req) {
      const views = ctx.releases.list(ctx.identity.self(), req);
      return { releases: views.map(releaseToProto) };
    },
    getRelease(req) {
      return { release: releaseToProto(ctx.releases.get(ctx.identity.self(), req.address)) };
    },
  };
}
