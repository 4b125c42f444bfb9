import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { OperationQueries } from "../../domain/operations/queries.js";
import type { AppContext } from "../../context.js";
import { enumMap } from "./enum-map.js";
import type { OperationRecord, OperationState as State } from "../../ports/operations.js";
import { OperationService, OperationState, type OperationSchema } from "../../../gen/scr/v1/operation_service_pb.js";

const STATES = enumMap<State, OperationState>({
  pending: OperationState.PENDING,
  submitted: OperationState.SUBMITTED,
  confirmed: OperationState.CONFIRMED,
  failed: OperationState.FAILED,
});

export function operationToProto(op: OperationRecord): MessageInitShape<typeof OperationSchema> {
  return {
    id: op.id,
    kind: op.kind,
    state: STATES.toProto(op.state),
    release: op.release ?? undefined,
    txHash: op.txHash ?? undefined,
    blockNumber: op.blockNumber === null ? undefined : BigInt(op.blockNumber),
    failureReason: op.failureReason ?? undefined,
    idempotencyKey: op.idempotencyKey ?? undefined,
    createdAt: timestampFromDate(new Date(op.createdAt)),
    updatedAt: timestampFromDate(new Date(op.updatedAt)),
  };
}

export function operationService(ctx: AppContext): Partial<ServiceImpl<typeof OperationService>> {
  const queries = new OperationQueries(ctx.store.operations);
  return {
    getOperation(req) {
      return { operation: operationToProto(queries.get(req.id)) };
    },
    listOperations(req) {
      return { operations: queries.list(STATES.fromProto(req.state), req.limit).map(operationToProto) };
    },
  };
}
