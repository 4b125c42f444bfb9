import { FailedPreconditionError } from "../../domain/errors.js";
import type { Organization } from "../../domain/releases/model.js";
import type { Identity } from "../../ports/identity.js";
import type { OrganizationStore } from "../../ports/store.js";

/**
 * This gateway's organisation: the wallet's address as the organisation registry knows it
 * (mirrored into the store). Unregistered, the organisation-specific calls refuse clearly.
 */
export class RegistryIdentity implements Identity {
  constructor(
    private readonly address: string,
    private readonly orgs: OrganizationStore,
  ) {}

  self(): Organization {
    const org = this.orgs.findOrganization(this.address);
    if (!org) {
      throw new FailedPreconditionError(
        `this gateway's organisation (${this.address}) is not registered on the network yet: ` +
          `the registry administrator must register it (OrganizationRegistry.register) with its address and the ` +
          `encryption key that \`scr wallet show\` prints`,
      );
    }
    return org;
  }
}
