/** A release as the local cache holds it: data already decrypted by the wallet. */
export interface ReleaseRecord {
  address: string;
  creator: string;
  /** The ownership chain: [0] is the creator, the last entry the current owner. */
  owners: string[];
  terminal: string | null;
  data: ReleaseData;
  encryptedPin: string;
  deleted: boolean;
  blocked: boolean;
  pinRetrieved: boolean;
  gateOut: Date | null;
  createdAt: Date;
  updatedAt: Date;
  version: string;
  greenLights: GreenLights;
  /** The data key as wrapped on chain for this organisation (0x hex), "" when none. Lets
   * this gateway re-wrap the key for the next owner without a chain read. */
  wrappedKey: string;
  /** The driver or barge, decrypted; set for the current owner and the terminal only. */
  assignment: Assignment | null;
}

/** Who picks the container up: the body of PUT /releases/{address}/assign. */
export type Assignment = DriverAssignment | BargeAssignment;

export interface DriverAssignment {
  type: "driver";
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  /** The Alfapass number in Antwerp; drivers are keyed by it. */
  identification: string;
}

export interface BargeAssignment {
  type: "barge";
  name: string;
  /** The ENI number. */
  identification: string;
  /** The BTS number in Antwerp; optional. */
  visitNumber: string;
}

export interface ReleaseData {
  billOfLading: {
    blNumber: string;
    portOfLoading: string;
    portOfDestination: string;
    vessel: string;
    agent: string;
    stayNumber: string;
    lloydsNumber: string;
    voyageNumber: string;
  };
  container: {
    containerNumber: string;
    containerStatus: string;
    pickupLocation: string;
    pickupLoCode: string;
    turnInLocation: string;
    turnInLoCode: string;
    turnInReference: string;
    termsAndConditions: string;
    validFrom: Date | null;
    validUntil: Date | null;
    isoTypeCode: string;
  };
}

export type LightColor = "gray" | "green" | "yellow" | "red";

export interface GreenLight {
  color: LightColor;
  value: string;
  /** As the feed formats it, e.g. "2023-07-10 13:00"; "" when never reported. */
  updatedAt: string;
}

export const LIGHT_NAMES = [
  "customs",
  "pickuplight",
  "gateoperation",
  "terminalready",
  "customsprogress",
  "commercialrelease",
  "terminaloperation",
] as const;
export type LightName = (typeof LIGHT_NAMES)[number];

export interface GreenLights {
  total: LightColor;
  events: Record<LightName, GreenLight>;
  source: string;
}

export interface Organization {
  address: string;
  name: string;
  vat: string;
}

/** The organisation roles of the registry, as words. */
export type OrgRole = "carrier" | "forwarder" | "transporter" | "terminal" | "portsystem" | "";

/** An organisation as registered on chain, with what it takes to encrypt for it. */
export interface Party extends Organization {
  role: OrgRole;
  /** RSA public key, PEM SPKI; "" when unknown. */
  publicKey: string;
}

/** A release seen by one organisation: who is before and after it in the chain. */
export interface ReleaseView extends ReleaseRecord {
  owner: string;
  previousOwner: Organization | null;
  nextOwner: Organization | null;
  selfOwner: Organization | null;
}
