import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { http } from "../../../gen/google/api/annotations_pb.js";
import { http_success_status } from "../../../gen/scr/v1/options_pb.js";

export interface RestRoute {
  method: DescMethod;
  httpMethod: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  /** The annotation's template, e.g. `/releases/{address}/transfer`. */
  template: string;
  /** The same in Fastify's syntax, e.g. `/releases/:address/transfer`. */
  fastifyPath: string;
  /** Request fields bound from the path, in template order. */
  pathFields: string[];
  /** "" (no body), "*" (the whole request) or the name of one request field. */
  body: string;
  /** "" (the whole response) or the name of one response field. */
  responseBody: string;
  successStatus: number;
  /**
   * Whether a success carries a JSON body. The documented 202s and 204s have none: their only
   * result, the operation id, travels in the `Operation-Id` and `Location` headers. A 202
   * whose response holds more (CreateRelease's new address) keeps its body.
   */
  hasBody: boolean;
}

/** See RestRoute.hasBody. */
function successHasBody(method: DescMethod, status: number): boolean {
  if (status === 204) return false;
  if (status === 202) return method.output.fields.some((f) => f.name !== "operation_id");
  return true;
}

const VARIABLE = /\{([a-z_][a-z0-9_]*)\}/g;

/**
 * Reads the `google.api.http` rule of every method. Only plain `{field}` variables are used
 * by this API; anything richer fails at start rather than routing wrongly.
 */
export function restRoutes(services: readonly DescService[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http);
      const pattern = rule.pattern;
      if (pattern.case === undefined || pattern.case === "custom") {
        throw new Error(`${method.parent.typeName}.${method.name}: unsupported http rule`);
      }
      const template = pattern.value;
      if (/[{][^}]*[=*.]/.test(template)) {
        throw new Error(`${method.parent.typeName}.${method.name}: path template ${template} is not supported`);
      }
      const pathFields = [...template.matchAll(VARIABLE)].map((m) => m[1] as string);
      for (const name of [...pathFields, ...(rule.body && rule.body !== "*" ? [rule.body] : [])]) {
        if (!method.input.fields.some((f) => f.name === name)) {
          throw new Error(`${method.parent.typeName}.${method.name}: no request field ${name}`);
        }
      }
      if (rule.responseBody && !method.output.fields.some((f) => f.name === rule.responseBody)) {
        throw new Error(`${method.parent.typeName}.${method.name}: no response field ${rule.responseBody}`);
      }
      const successStatus = hasOption(method, http_success_status) ? getOption(method, http_success_status) : 200;
      routes.push({
        method,
        httpMethod: pattern.case.toUpperCase() as RestRoute["httpMethod"],
        template,
        fastifyPath: template.replace(VARIABLE, ":$1"),
        pathFields,
        body: rule.body,
        responseBody: rule.responseBody,
        successStatus,
        hasBody: successHasBody(method, successStatus),
      });
    }
  }
  return routes;
}
