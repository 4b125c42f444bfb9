/** The trust store: invitations and connections, kept by the indexer from the chain. */

export type InvitationStatusWord = "pending" | "accepted" | "refused";
export type InvitationDirectionWord = "outgoing" | "incoming";

/** An invitation row; addresses and the id are lower case, dates epoch ms. */
export interface InvitationRecord {
  id: string;
  inviter: string;
  invitee: string | null;
  vat: string;
  name: string;
  contactEmail: string;
  status: InvitationStatusWord;
  direction: InvitationDirectionWord;
  reference: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConnectionRecord {
  address: string;
  reference: string | null;
  name: string;
  vat: string;
  publicKey: string;
}

export interface ConnectionStore {
  findInvitation(id: string): InvitationRecord | undefined;
  upsertInvitation(r: InvitationRecord): void;
  listInvitations(filter?: { direction?: InvitationDirectionWord; status?: InvitationStatusWord }): InvitationRecord[];
  pendingOutgoingTo(vat: string): InvitationRecord | undefined;
  deleteInvitation(id: string): void;
  deleteConnection(address: string): void;
  upsertConnection(address: string, reference: string | null): void;
  /** Whether this organisation is connected with `address`: transfers go to connections only. */
  isConnected(address: string): boolean;
  listConnections(): ConnectionRecord[];
  organizationByVat(vat: string): { address: string; name: string; vat: string } | undefined;
}
