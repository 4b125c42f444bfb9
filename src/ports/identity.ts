import type { Organization } from "../domain/releases/model.js";

/** Who this gateway is on the network: its organisation, as registered on chain. */
export interface Identity {
  /** Throws FailedPreconditionError while the organisation is not set up or registered. */
  self(): Organization;
}
