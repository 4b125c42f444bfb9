import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { checksum } from "./checksum.js";
import { enumMap } from "./enum-map.js";
import type { AppContext } from "../../context.js";
import { ConnectionsService, forgetFailedInvitation, type InvitationStatusView, type InvitationView, type InvitationWrite } from "../../domain/connections/service.js";
import { announceOperation, idempotencyKeyOf, operationByKey } from "./operation-headers.js";
import type { InvitationDirectionWord } from "../../ports/connections.js";
import {
  ConnectionService,
  InvitationDirection,
  InvitationStatus,
  type InvitationSchema,
} from "../../../gen/scr/v1/connection_service_pb.js";

const STATUS = enumMap<InvitationStatusView, InvitationStatus>({
  awaitingRegistration: InvitationStatus.AWAITING_REGISTRATION,
  pending: InvitationStatus.PENDING,
  accepted: InvitationStatus.ACCEPTED,
  refused: InvitationStatus.REFUSED,
});
const DIRECTION = enumMap<InvitationDirectionWord, InvitationDirection>({
  outgoing: InvitationDirection.OUTGOING,
  incoming: InvitationDirection.INCOMING,
});

export function invitationToProto(v: InvitationView): MessageInitShape<typeof InvitationSchema> {
  return {
    id: v.id,
    reference: v.direction === "outgoing" ? (v.reference ?? undefined) : undefined,
    name: v.name,
    vat: v.vat,
    contactEmail: v.contactEmail,
    status: STATUS.toProto(v.status),
    direction: DIRECTION.toProto(v.direction),
    inviter: checksum(v.inviter),
    inviterName: v.inviterName,
    inviterVat: v.inviterVat,
    invitee: v.invitee ? checksum(v.invitee) : undefined,
    createdAt: timestampFromDate(new Date(v.createdAt)),
    updatedAt: timestampFromDate(new Date(v.updatedAt)),
  };
}

/** ConnectionService over the domain: invitations go through the write pipeline. */
export function connectionService(ctx: AppContext): Partial<ServiceImpl<typeof ConnectionService>> {
  const repo = ctx.store.connections;
  ctx.chain?.pipeline.onSettled((op) => forgetFailedInvitation(repo, op));
  const domain = new ConnectionsService({
    repo,
    orgs: ctx.store,
    identity: ctx.identity,
    chain: ctx.chain,
    transaction: (fn) => ctx.store.transaction(fn),
    operationByKey: operationByKey(ctx),
  });
  /** The invitation, and its operation announced as every write's is. */
  const answer = (w: InvitationWrite, call: HandlerContext) => ({
    invitation: invitationToProto(w.invitation),
    ...(w.operation ? announceOperation(ctx, call, w.operation.id) : {}),
  });
  return {
    createInvitation(req, call) {
      return answer(domain.create({ ...req, idempotencyKey: idempotencyKeyOf(req, call) ?? "" }), call);
    },
    listInvitations(req) {
      const views = domain.list({ direction: DIRECTION.fromProto(req.direction), status: STATUS.fromProto(req.status) });
      return { invitations: views.map(invitationToProto) };
    },
    acceptInvitation(req, call) {
      return answer(domain.accept({ ...req, idempotencyKey: idempotencyKeyOf(req, call) ?? "" }), call);
    },
    refuseInvitation(req, call) {
      return answer(domain.refuse({ ...req, idempotencyKey: idempotencyKeyOf(req, call) ?? "" }), call);
    },
    listConnections() {
      return {
        connections: domain
          .connections()
          .map((c) => ({ reference: c.reference ?? undefined, name: c.name, vat: c.vat, address: checksum(c.address), publicKey: c.publicKey })),
      };
    },
  };
}
