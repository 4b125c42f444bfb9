import type { Organization, ReleaseRecord, ReleaseView } from "./model.js";

/**
 * Whether `org` may see the release at all: it is in the ownership chain (including as
 * creator), or it is the terminal concerned. Anyone else must get "not found".
 */
export function isVisibleTo(release: ReleaseRecord, org: string): boolean {
  const me = org.toLowerCase();
  return release.owners.some((o) => o.toLowerCase() === me) || release.terminal?.toLowerCase() === me;
}

/**
 * Places the caller in the ownership chain. The previous owner is the party that transferred
 * the release to the caller, the next owner the party the caller transferred it to. The
 * latest position counts when a party occurs twice.
 */
export function viewFor(
  release: ReleaseRecord,
  self: Organization,
  lookup: (address: string) => Organization | undefined,
): ReleaseView {
  const me = self.address.toLowerCase();
  const index = release.owners.map((o) => o.toLowerCase()).lastIndexOf(me);
  const at = (i: number): Organization | null => {
    const address = release.owners[i];
    if (address === undefined) return null;
    return lookup(address) ?? { address, name: "", vat: "" };
  };
  return {
    ...release,
    data: release.blocked ? withStatus(release.data, BLOCKED_STATUS) : release.data,
    owner: release.owners[release.owners.length - 1] ?? release.creator,
    previousOwner: index > 0 ? at(index - 1) : null,
    nextOwner: index >= 0 ? at(index + 1) : null,
    selfOwner: index >= 0 ? self : null,
  };
}

/**
 * The container status while the carrier blocks the release. The spec's table: containerStatus
 * "is updated by the SCR app when the carrier blocks or unblocks a release"; unblocked, the
 * carrier's own status shows again.
 */
export const BLOCKED_STATUS = "blocked";

function withStatus(data: ReleaseRecord["data"], containerStatus: string): ReleaseRecord["data"] {
  return { ...data, container: { ...data.container, containerStatus } };
}
