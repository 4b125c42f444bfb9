import { getOption, type DescMethod } from "@bufbuild/protobuf";
import { createContextKey } from "@connectrpc/connect";
import type { Logger } from "pino";
import { PermissionDeniedError, UnauthenticatedError } from "../domain/errors.js";
import { Role, required_role } from "../../gen/scr/v1/options_pb.js";
import type { Principal, RoleName } from "./verifier.js";
import type { TokenVerifier } from "./verifier.js";
import { AuthSetupError } from "./keys.js";

/** The caller, in a handler's `ctx.values`; undefined when authentication is off. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "scr principal" });

const ROLE_NAMES: Partial<Record<Role, RoleName>> = {
  [Role.READ]: "read",
  [Role.WRITE]: "write",
  [Role.ADMIN]: "admin",
};

export interface Guard {
  /** Undefined when no authentication is configured: nothing is checked. */
  authenticate(headers: Headers, method: DescMethod): Promise<Principal | undefined>;
}

/** The one check every transport runs before calling an implementation. */
export function createGuard(verifier: TokenVerifier | undefined): Guard {
  return {
    async authenticate(headers, method) {
      if (!verifier) return undefined;
      const header = headers.get("authorization") ?? "";
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
      // A Bearer token first; else an API key (gRPC metadata x-api-key arrives the same way).
      const apiKey = m ? null : headers.get("x-api-key");
      if (!m && apiKey === null) throw new UnauthenticatedError("missing bearer token");
      const principal = m ? await verifier.verify(m[1]!) : await verifier.verifyApiKey(apiKey!.trim());
      const role = ROLE_NAMES[getOption(method, required_role)];
      // Server reflection only describes the public contract: any reader may use it. Any other
      // method without a declared role is an admin method: fail closed.
      const needed = role ?? (method.parent.typeName.startsWith("grpc.reflection.") ? "read" : "admin");
      if (!principal.roles.has(needed)) throw new PermissionDeniedError(`this client lacks the ${needed} role`);
      return principal;
    },
  };
}

export const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|\[::1\]|localhost|::ffff:127(\.\d{1,3}){3})$/i;

/**
 * Without `authentication`, the gateway serves only on a loopback host unless
 * `auth.allowUnauthenticated` says otherwise; a warning is logged either way.
 */
export function checkUnauthenticatedStart(
  config: { authentication?: string; httpServer: { host: string }; auth: { allowUnauthenticated: boolean } },
  logger: Pick<Logger, "warn">,
  verifier?: TokenVerifier,
): void {
  if (verifier) return;
  if (config.authentication) {
    throw new AuthSetupError(`"authentication" is configured but no token verifier was built from it`);
  }
  const host = config.httpServer.host;
  if (!LOOPBACK.test(host) && !config.auth.allowUnauthenticated) {
    const message =

      `no "authentication" is configured and httpServer.host ${host} is not a loopback address: ` +
        `configure a key, listen on 127.0.0.1, or set auth.allowUnauthenticated`;
    logger.warn({ host }, message);
    throw new AuthSetupError(message);
  }
  logger.warn(
    { host },
    "AUTHENTICATION IS OFF: no \"authentication\" key is configured; every request is accepted without a token",
  );
}
