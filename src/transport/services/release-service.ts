import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { checksum } from "./checksum.js";
import { announceOperation, idempotencyKeyOf, operationByKey } from "./operation-headers.js";
import type { GreenLight, LightColor, Organization, ReleaseView } from "../../domain/releases/model.js";
import type { AssigneeInput } from "../../domain/releases/assignment.js";
import { ReleaseOwnerCommands } from "../../domain/releases/owner-commands.js";
import { AssigneeType, Color, type Assignee, type ReleaseSchema } from "../../../gen/scr/v1/release_pb.js";
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

/** Conversions already made, on the identity of the (memoised, shared) view. */
const converted = new WeakMap<ReleaseView, MessageInitShape<typeof ReleaseSchema>>();

/** `releaseToProto`, once per view: unchanged releases cost nothing on the next page. */
function releaseToProtoOnce(v: ReleaseView): MessageInitShape<typeof ReleaseSchema> {
  let shape = converted.get(v);
  if (!shape) {
    shape = releaseToProto(v);
    converted.set(v, shape);
  }
  return shape;
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

const ASSIGNEE_TYPES: Record<AssigneeType, AssigneeInput["type"]> = {
  [AssigneeType.UNSPECIFIED]: "",
  [AssigneeType.DRIVER]: "driver",
  [AssigneeType.BARGE]: "barge",
};

function assigneeOf(a: Assignee | undefined): AssigneeInput {
  return {
    type: a ? (ASSIGNEE_TYPES[a.type] ?? "") : "",
    firstName: a?.firstName ?? "",
    lastName: a?.lastName ?? "",
    email: a?.email ?? "",
    phone: a?.phone ?? "",
    identification: a?.identification ?? "",
    name: a?.name ?? "",
    visitNumber: a?.visitNumber ?? "",
  };
}

/** The longest a GetPincode waits for its pinRetrieved transaction, within the call's deadline. */
const PIN_WAIT_MS = 20_000;

/** ReleaseService over the domain: reads from the cache, writes through the pipeline. */
export function releaseService(ctx: AppContext): Partial<ServiceImpl<typeof ReleaseService>> {
  const owner = new ReleaseOwnerCommands({
    store: ctx.store,
    identity: ctx.identity,
    chain: ctx.chain,
    operationByKey: operationByKey(ctx),
  });
  const write = (req: { address: string; idempotencyKey: string }, call: HandlerContext) => ({
    address: req.address,
    idempotencyKey: idempotencyKeyOf(req, call),
  });
  return {
    listReleases(req) {
      const views = ctx.releases.list(ctx.identity.self(), req);
      return { releases: views.map(releaseToProtoOnce) };
    },
    getRelease(req) {
      return { release: releaseToProto(ctx.releases.get(ctx.identity.self(), req.address)) };
    },
    async getPincode(req, call) {
      const wait = Math.min(PIN_WAIT_MS, call.timeoutMs() ?? PIN_WAIT_MS, ctx.config.httpServer.requestTimeoutMs * 0.8);
      return { pincode: await owner.pincode(req.address, wait) };
    },
    transferRelease(req, call) {
      const op = owner.transfer({ ...write(req, call), to: req.newOwner?.address ?? "" });
      return announceOperation(ctx, call, op.id);
    },
    revokeRelease(req, call) {
      return announceOperation(ctx, call, owner.revoke(write(req, call)).id);
    },
    assignRelease(req, call) {
      const op = owner.assign({ ...write(req, call), assignee: assigneeOf(req.assignee) });
      return announceOperation(ctx, call, op.id);
    },
    assignBarge(req, call) {
      const b = req.barge;
      const op = owner.assignBarge({
        ...write(req, call),
        barge: { name: b?.name ?? "", identification: b?.identification ?? "", visitNumber: b?.visitNumber ?? "" },
      });
      return announceOperation(ctx, call, op.id);
    },
    unassignRelease(req, call) {
      return announceOperation(ctx, call, owner.unassign(write(req, call)).id);
    },
  };
}
