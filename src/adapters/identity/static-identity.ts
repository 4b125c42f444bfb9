import { FailedPreconditionError } from "../../domain/errors.js";
import type { Organization } from "../../domain/releases/model.js";
import type { Identity } from "../../ports/identity.js";

/** An identity fixed at start: known, or absent with the reason why. */
export class StaticIdentity implements Identity {
  constructor(private readonly org: Organization | { missing: string }) {}

  self(): Organization {
    if ("missing" in this.org) throw new FailedPreconditionError(this.org.missing);
    return this.org;
  }
}
