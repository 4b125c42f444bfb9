import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AppContext } from "../../context.js";
import type { OperationState } from "../../ports/operations.js";

export type Protocol = "rest" | "connect" | "grpc" | "grpc-web";

const OPERATION_STATES: OperationState[] = ["pending", "submitted", "confirmed", "failed"];

export interface RequestMetrics {
  registry: Registry;
  /** One finished request: `route` is a template or an RPC path, never a raw URL. */
  observe(labels: { route: string; protocol: Protocol; status: string }, seconds: number): void;
}

/**
 * Prometheus metrics of one gateway, in a registry of its own (several gateways may share a
 * process, as in the tests): Node's process metrics, requests by route, protocol and status,
 * latency, and gauges read at scrape time from the store and the indexer.
 */
export function createMetrics(ctx: AppContext): RequestMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "scr_requests_total",
    help: "Requests answered, by route (REST template or RPC method path), protocol and status (HTTP status; grpc-status for gRPC and gRPC-Web)",
    labelNames: ["route", "protocol", "status"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "scr_request_duration_seconds",
    help: "Time from the request's arrival to the end of its response",
    labelNames: ["route", "protocol"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  new Gauge({
    name: "scr_operations",
    help: "Write operations of the pipeline by state",
    labelNames: ["state"] as const,
    registers,
    collect() {
      for (const state of OPERATION_STATES) this.set({ state }, ctx.store.operations.countInState(state));
    },
  });
  new Gauge({
    name: "scr_outbox_deliveries",
    help: "Callback deliveries not yet done: pending (not tried yet), retrying, dead (dead letters)",
    labelNames: ["state"] as const,
    registers,
    collect() {
      const counts = ctx.store.subscriptions.outboxCounts();
      for (const state of ["pending", "retrying", "dead"] as const) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: "scr_subscriptions_disabled",
    help: "Subscriptions whose receiver answered 410 Gone",
    registers,
    collect() {
      this.set(ctx.store.subscriptions.outboxCounts().disabledSubscriptions);
    },
  });
  const health = ctx.health;
  if (health) {
    const indexerGauge = (name: string, help: string, read: (s: { head: number | null; lag: number | null }) => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const value = read(health.indexer());
          if (value !== null) this.set(value);
        },
      });
    indexerGauge("scr_chain_head_block", "The chain's latest block as the indexer last saw it", (s) => s.head);
    indexerGauge("scr_indexer_lag_blocks", "Blocks that may be indexed but are not yet", (s) => s.lag);
  }
  return {
    registry,
    observe(labels, seconds) {
      requests.inc(labels);
      duration.observe({ route: labels.route, protocol: labels.protocol }, seconds);
    },
  };
}

/** The protocol of a request, from its content type and whether its route is an RPC path. */
export function protocolOf(contentType: string | undefined, rpcRoute: boolean): Protocol {
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return rpcRoute ? "connect" : "rest";
}

/** A REST route's label: its `google.api.http` template, e.g. `/releases/{address}/transfer`. */
export function restRouteLabel(fastifyUrl: string, baseURL: string): string {
  const base = baseURL === "/" ? "" : baseURL;
  const path = fastifyUrl.startsWith(base) ? fastifyUrl.slice(base.length) : fastifyUrl;
  return path.replace(/:([A-Za-z_]\w*)/g, "{$1}") || "/";
}
