import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { CarrierCommands } from "../../domain/releases/carrier-commands.js";
import type { ReleaseDataInput } from "../../domain/releases/release-data-validation.js";
import { checksum } from "./checksum.js";
import { announceOperation, idempotencyKeyOf, operationByKey } from "./operation-headers.js";
import type { ReleaseData } from "../../../gen/scr/v1/release_pb.js";
import { CarrierService } from "../../../gen/scr/v1/carrier_service_pb.js";


const date = (t: Timestamp | undefined) => (t ? timestampDate(t) : null);

/** The proto's release data as the domain checks it: absent texts are "", dates are Dates. */
export function releaseDataInput(d: ReleaseData | undefined): ReleaseDataInput | undefined {
  if (!d) return undefined;
  const c = d.container;
  return {
    billOfLading: d.billOfLading,
    container: c && { ...c, validFrom: date(c.validFrom), validUntil: date(c.validUntil) },
  };
}

/** CarrierService over the domain: every write is checked on the cache, then an operation. */
export function carrierService(ctx: AppContext): Partial<ServiceImpl<typeof CarrierService>> {
  const carrier = new CarrierCommands({ store: ctx.store, identity: ctx.identity, chain: ctx.chain, operationByKey: operationByKey(ctx) });
  const write = (req: { address: string; idempotencyKey: string }, call: HandlerContext) => ({
    address: req.address,
    idempotencyKey: idempotencyKeyOf(req, call),
  });
  return {
    createRelease(req, call) {
      const { address, operation } = carrier.create({
        ...write(req, call),
        releaseData: releaseDataInput(req.releaseData),
        pincode: req.pincode,
        terminal: req.terminal,
      });
      return { address: checksum(address), ...announceOperation(ctx, call, operation.id) };
    },
    updateRelease(req, call) {
      const op = carrier.update({ ...write(req, call), releaseData: releaseDataInput(req.releaseData), terminal: req.terminal });
      return announceOperation(ctx, call, op.id);
    },
    blockRelease(req, call) {
      return announceOperation(ctx, call, carrier.block(write(req, call)).id);
    },
    unblockRelease(req, call) {
      return announceOperation(ctx, call, carrier.unblock(write(req, call)).id);
    },
    deleteRelease(req, call) {
      return announceOperation(ctx, call, carrier.remove(write(req, call)).id);
    },
  };
}
