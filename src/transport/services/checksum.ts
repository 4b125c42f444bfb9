import { getAddress } from "ethers";

/** EIP-55 checksums cost a keccak each; the same few parties recur on every response. */
const checksums = new Map<string, string>();

export function checksum(address: string): string {
  let out = checksums.get(address);
  if (out === undefined) {
    if (checksums.size > 50_000) checksums.clear();
    out = getAddress(address);
    checksums.set(address, out);
  }
  return out;
}
