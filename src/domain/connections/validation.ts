import { InvalidArgumentError } from "../errors.js";
import { checkText } from "../validation.js";

const VAT = /^[A-Z]{2}[A-Z0-9]{2,13}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INVITATION_ID = /^0x[0-9a-fA-F]{64}$/;

export interface InvitationInput {
  reference: string | null;
  name: string;
  vat: string;
  contactEmail: string;
}

/** A VAT number as the registry spells it: no spaces or dots, upper case. */
export function normalizeVat(vat: string): string {
  return vat.replace(/[\s.]/g, "").toUpperCase();
}

/** POST /invitations: name, vat and contactEmail are mandatory, every text at most 255. */
export function checkInvitation(req: { reference: string; name: string; vat: string; contactEmail: string }): InvitationInput {
  const reference = checkText("reference", req.reference);
  const name = checkText("name", req.name, { required: true }).trim();
  checkText("vat", req.vat, { required: true });
  checkText("contactEmail", req.contactEmail, { required: true });
  const vat = normalizeVat(req.vat);
  if (!VAT.test(vat)) {
    throw new InvalidArgumentError("vat", "must be a VAT number: a two-letter country code and 2 to 13 letters or digits");
  }
  const contactEmail = req.contactEmail.trim();
  if (!EMAIL.test(contactEmail)) throw new InvalidArgumentError("contactEmail", "must be an e-mail address");
  return { reference: reference === "" ? null : reference, name, vat, contactEmail };
}

/** An invitation id: a bytes32 in hex. Lower case for lookups. */
export function checkInvitationId(id: string): string {
  if (id === "") throw new InvalidArgumentError("id", "is required");
  if (!INVITATION_ID.test(id)) throw new InvalidArgumentError("id", "must be an invitation id: 0x and 64 hexadecimal digits");
  return id.toLowerCase();
}
