import { InvalidArgumentError } from "../errors.js";
import { TEXT_LIMIT } from "../validation.js";
import type { EventTypeWord } from "../../ports/subscriptions.js";

export const EVENT_TYPES: readonly EventTypeWord[] = ["onRelease", "onAcceptInvitation"];

/** A Standard Webhooks secret: "whsec_" and the base64 of 24 to 64 bytes. */
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

export interface SubscriptionInput {
  /** undefined when the caller gave none or one this gateway does not know. */
  eventType: EventTypeWord | undefined;
  callbackUrl: string;
  secret: string | undefined;
}

/**
 * The rules of POST /subscriptions. Fields are named as the legacy body spells them
 * (`eventType`, `callback_url`), so a 400 says which one is wrong.
 */
export function checkSubscription(input: SubscriptionInput): { eventType: EventTypeWord; callbackUrl: string; secret: string | null } {
  if (!input.eventType || !EVENT_TYPES.includes(input.eventType)) {
    throw new InvalidArgumentError("eventType", `must be one of ${EVENT_TYPES.map((t) => `"${t}"`).join(", ")}`);
  }
  return { eventType: input.eventType, callbackUrl: checkCallbackUrl(input.callbackUrl), secret: checkSecret(input.secret) };
}

export function checkCallbackUrl(value: string): string {
  const field = "callback_url";
  if (value.trim() === "") throw new InvalidArgumentError(field, "is required");
  if (value.length > TEXT_LIMIT) throw new InvalidArgumentError(field, `must be at most ${TEXT_LIMIT} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(field, "must be an absolute http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError(field, "must be an absolute http or https URL");
  }
  if (url.hostname === "") throw new InvalidArgumentError(field, "must name a host");
  return value;
}

function checkSecret(value: string | undefined): string | null {
  if (value === undefined || value === "") return null;
  const m = SECRET.exec(value);
  const bytes = m ? Buffer.from(m[1] as string, "base64").length : 0;
  if (!m || bytes < 24 || bytes > 64) {
    throw new InvalidArgumentError("secret", 'must be "whsec_" and the base64 of 24 to 64 random bytes');
  }
  return value;
}
