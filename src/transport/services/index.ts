import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { CarrierService } from "../../../gen/scr/v1/carrier_service_pb.js";
import { ConnectionService } from "../../../gen/scr/v1/connection_service_pb.js";
import { OperationService } from "../../../gen/scr/v1/operation_service_pb.js";
import { ReleaseService } from "../../../gen/scr/v1/release_service_pb.js";
import { TerminalService } from "../../../gen/scr/v1/terminal_service_pb.js";
import { SubscriptionService } from "../../../gen/scr/v1/subscription_service_pb.js";
import { connectionService } from "./connection-service.js";
import { operationService } from "./operation-service.js";
import { releaseService } from "./release-service.js";
import { subscriptionService } from "./subscription-service.js";
import { carrierService } from "./carrier-service.js";
import { terminalService } from "./terminal-service.js";

export interface BoundService {
  service: DescService;
  /** Methods absent here answer `unimplemented` (RPC) or 501 (REST). */
  impl: Partial<ServiceImpl<DescService>>;
}

/** Every service of the API, bound to the domain. Both transports serve exactly this list. */
export function boundServices(ctx: AppContext): BoundService[] {
  return [
    { service: ReleaseService, impl: releaseService(ctx) as BoundService["impl"] },
    { service: ConnectionService, impl: connectionService(ctx) as BoundService["impl"] },
    { service: SubscriptionService, impl: subscriptionService(ctx) as BoundService["impl"] },
    { service: OperationService, impl: operationService(ctx) as BoundService["impl"] },
    { service: CarrierService, impl: carrierService(ctx) as BoundService["impl"] },
    { service: TerminalService, impl: terminalService(ctx) as BoundService["impl"] },
  ];
}
