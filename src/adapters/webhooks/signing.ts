/**
 * What makes a callback trustworthy to its receiver:
 *
 * - a JWT (ES256, signed with the wallet's callback key, short `exp`), which the receiver
 *   verifies with the PEM from `scr wallet export-public-key`: in `Authorization: Bearer`, or
 *   in the body as `token` when `subscriptionAuthTokenInBody` is set (the spec names the
 *   setting, not the key);
 * - with a subscription secret, the Standard Webhooks headers: `webhook-id` (the event id),
 *   `webhook-timestamp` (unix seconds) and `webhook-signature` ("v1," and the base64
 *   HMAC-SHA256 of `${id}.${timestamp}.${body}` under the secret's bytes).
 */
import { createHmac, randomUUID, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";

export interface TokenClaims {
  /** This organisation's address (checksummed). */
  issuer: string;
  /** The event the callback carries. */
  eventId: string;
  lifetimeSeconds: number;
  now: number;
}

export function callbackToken(key: KeyObject, c: TokenClaims): Promise<string> {
  const iat = Math.floor(c.now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", typ: "JWT" })
    .setIssuer(c.issuer)
    .setSubject(c.eventId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + c.lifetimeSeconds)
    .sign(key);
}

/** The Standard Webhooks `webhook-signature` value for one message. */
export function standardWebhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

export interface CallbackBodyOptions {
  eventId: string;
  /** Add `eventId` after the documented keys. */
  eventIdInBody: boolean;
  /** The JWT, when it travels in the body (`subscriptionAuthTokenInBody`). */
  token?: string;
}

/**
 * The callback body: the documented keys as stored, then `eventId` (for de-duplication; on by
 * default, `subscriptions.eventIdInBody: false` leaves exactly the spec's keys) and `token`.
 */
export function callbackBody(payload: string, o: CallbackBodyOptions): string {
  if (!o.eventIdInBody && o.token === undefined) return payload;
  const body = JSON.parse(payload) as Record<string, unknown>;
  if (o.eventIdInBody) body.eventId = o.eventId;
  if (o.token !== undefined) body.token = o.token;
  return JSON.stringify(body);
}
