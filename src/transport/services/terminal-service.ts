import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import type { Assignment } from "../../domain/releases/model.js";
import { TerminalCommands } from "../../domain/releases/terminal-commands.js";
import { announceOperation, idempotencyKeyOf, operationByKey } from "./operation-headers.js";
import { AssigneeType, type AssigneeSchema } from "../../../gen/scr/v1/release_pb.js";
import { TerminalService } from "../../../gen/scr/v1/terminal_service_pb.js";

/** The driver or barge as the proto's Assignee. */
export function assigneeToProto(a: Assignment): MessageInitShape<typeof AssigneeSchema> {
  if (a.type === "barge") {
    return { type: AssigneeType.BARGE, name: a.name, identification: a.identification, visitNumber: a.visitNumber };
  }
  const { firstName, lastName, email, phone, identification } = a;
  return { type: AssigneeType.DRIVER, firstName, lastName, email, phone, identification };
}

/** TerminalService over the domain: the gate check reads the cache; the rest are operations. */
export function terminalService(ctx: AppContext): Partial<ServiceImpl<typeof TerminalService>> {
  const terminal = new TerminalCommands({ store: ctx.store, identity: ctx.identity, chain: ctx.chain, operationByKey: operationByKey(ctx) });
  return {
    verifyPickup(req) {
      const check = terminal.verifyPickup(req);
      return { valid: check.valid, reasons: check.reasons, assignee: check.assignee ? assigneeToProto(check.assignee) : undefined };
    },
    recordGateOut(req, call) {
      const op = terminal.recordGateOut({
        address: req.address,
        gateOutAt: req.gateOutAt ? timestampDate(req.gateOutAt) : null,
        cancel: req.cancel,
        idempotencyKey: idempotencyKeyOf(req, call),
      });
      return announceOperation(ctx, call, op.id);
    },
    async updateGreenLights(req, call) {
      const op = await terminal.updateGreenLights({
        address: req.address,
        source: req.source,
        events: req.events,
        idempotencyKey: idempotencyKeyOf(req, call),
      });
      return announceOperation(ctx, call, op.id);
    },
  };
}
