import { Contract } from "ethers";
import type { Organization } from "../../../domain/releases/model.js";
import { ROLE_WORDS, interfaces } from "./contracts.js";
import type { EvmChain } from "./evm-chain.js";

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
  return { address, name: org.name, vat: org.vat, role: ROLE_WORDS[Number(org.role)] ?? "", publicKey: org.publicKey };
}
