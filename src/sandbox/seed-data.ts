import type { LightName } from "../domain/releases/model.js";

/** A release of the sandbox's first start: the data, the pincode and the terminal's lights. */
export interface SeedRelease {
  data: {
    billOfLading: Record<string, string>;
    container: Record<string, string | null>;
  };
  pincode: string;
  greenLights: Partial<Record<LightName, { value: string; updatedAt: string }>>;
}

/** Sandbox bill of lading data around a number. */
export const billOfLading = (blNumber: string) => ({
  blNumber,
  portOfLoading: "CNSHA",
  portOfDestination: "BEANR",
  vessel: "MSC SANDBOX",
  agent: "Demo Carrier Agency",
  stayNumber: "00001",
  lloydsNumber: "9876543",
  voyageNumber: "SB001",
});

/** Sandbox container data around a number, valid through 2027. */
export const container = (containerNumber: string, isoTypeCode: string) => ({
  containerNumber,
  containerStatus: "released",
  pickupLocation: "MPET Deurganckdok",
  pickupLoCode: "BEANR",
  turnInLocation: "Depot Noord",
  turnInLoCode: "BEANR",
  turnInReference: "SANDBOX-RET",
  termsAndConditions: "<p>Sandbox release: test data only.</p>",
  validFrom: "2026-01-01T00:00:00.000Z",
  validUntil: "2027-12-31T23:59:59.000Z",
  isoTypeCode,
});

/** Three releases in the three states a forwarder meets: ready, held by customs, not yet. */
export const SANDBOX_RELEASES: SeedRelease[] = [
  {
    data: { billOfLading: billOfLading("SANDBOX-BL-0001"), container: container("MSCU1234565", "45G1") },
    pincode: "10001",
    greenLights: {
      commercialrelease: { value: "ok", updatedAt: "2026-11-20 08:00" },
      customs: { value: "released", updatedAt: "2026-11-20 09:30" },
      terminaloperation: { value: "discharged", updatedAt: "2026-11-20 07:45" },
      terminalready: { value: "released", updatedAt: "2026-11-20 10:00" },
    },
  },
  {
    data: { billOfLading: billOfLading("SANDBOX-BL-0002"), container: container("MSCU7654324", "22G1") },
    pincode: "10002",
    greenLights: {
      commercialrelease: { value: "ok", updatedAt: "2026-11-21 08:00" },
      customs: { value: "selectedforscan", updatedAt: "2026-11-21 11:15" },
      terminaloperation: { value: "discharged", updatedAt: "2026-11-21 07:10" },
    },
  },
  {
    data: { billOfLading: billOfLading("SANDBOX-BL-0003"), container: container("MSCU5555553", "45R1") },
    pincode: "10003",
    greenLights: {
      commercialrelease: { value: "unknown", updatedAt: "" },
      terminaloperation: { value: "loaded", updatedAt: "2026-11-22 06:00" },
    },
  },
];
