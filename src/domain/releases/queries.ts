import { NotFoundError } from "../errors.js";
import { checkAddress, checkPositiveInt, checkText, parseTimestamp } from "../validation.js";
import type { ReleaseStore, OrganizationStore } from "../../ports/store.js";
import type { Organization, ReleaseRecord, ReleaseView } from "./model.js";
import { isVisibleTo, viewFor } from "./view.js";

export const MAX_PAGE_SIZE = 1000;

export interface ListReleasesInput {
  limit: number;
  page: number;
  since: string;
  bl: string;
  container: string;
}

/** Read use cases. They only touch the local cache, never the chain. */
export class ReleaseQueries {
  /**
   * Views already built, on the identity of the (unchanged, shared) record they were built
   * from; rebuilt when any organisation changed (the names they show) or for another caller.
   */
  private readonly views = new WeakMap<ReleaseRecord, { orgs: number; self: string; view: ReleaseView }>();

  constructor(private readonly store: ReleaseStore & OrganizationStore) {}

  list(self: Organization, input: ListReleasesInput): ReleaseView[] {
    const limit = checkPositiveInt("limit", input.limit, MAX_PAGE_SIZE);
    const page = checkPositiveInt("page", input.page, Number.MAX_SAFE_INTEGER);
    const releases = this.store.listReleases({
      visibleTo: self.address.toLowerCase(),
      bl: input.bl ? checkText("bl", input.bl) : undefined,
      container: input.container ? checkText("container", input.container) : undefined,
      since: input.since ? parseTimestamp("since", input.since) : undefined,
      limit,
      page: page === 0 ? 1 : page,
    });
    // A page names the same few parties over and over: look each up once.
    const orgs = new Map<string, Organization | undefined>();
    const lookup = (a: string) => {
      if (!orgs.has(a)) orgs.set(a, this.store.findOrganization(a));
      return orgs.get(a);
    };
    const orgsVersion = this.store.organizationsVersion();
    return releases.map((r) => {
      const memo = this.views.get(r);
      // The caller's own name and VAT are an organisation's too: the version covers them.
      if (memo && memo.orgs === orgsVersion && memo.self === self.address) return memo.view;
      const view = viewFor(r, self, lookup);
      this.views.set(r, { orgs: orgsVersion, self: self.address, view });
      return view;
    });
  }

  get(self: Organization, address: string): ReleaseView {
    const id = checkAddress("address", address);
    const release = this.store.findRelease(id);
    if (!release || !isVisibleTo(release, self.address)) {
      throw new NotFoundError(`release ${address} not found`);
    }
    return viewFor(release, self, (a) => this.store.findOrganization(a));
  }
}
