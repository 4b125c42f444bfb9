import { Contract } from "ethers";
import type { Organization } from "../../../domain/releases/model.js";
import { Role, interfaces } from "./contracts.js";
import type { EvmChain } from "./evm-chain.js";

export const ROLE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Role).map(([name, n]) => [n, name.toLowerCase()]),
);

export interface RegisteredOrganization extends Organization {
  role: string;
  publicKey: string;
}

/** Reads one organisation from the registry; undefined when not registered. */
export async function readOrganization(
  chain: EvmChain,
  registry: string,
  address: string,
): Promise<RegisteredOrganization | undefined> {
  const contract = new Contract(registry, interfaces.organizationRegistry, chain.provider);
  const org = await contract.getFunction("getOrganization")(address);
  if (!org.registered) return undefined;
  return { address, name: org.name, vat: org.vat, role: ROLE_NAMES[Number(org.role)] ?? "none", publicKey: org.publicKey };
}
