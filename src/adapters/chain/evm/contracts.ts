/**
 * Typed helpers around the SCR contracts (contracts/*.sol, compiled to gen/contracts):
 * deployment in dependency order, ethers Contract handles, and decoding of custom-error reverts
 * into readable English.
 */
import {
  AbiCoder,
  BaseContract,
  Contract,
  ContractFactory,
  ErrorFragment,
  Interface,
  type ContractRunner,
  type Provider,
  type Signer,
  type TransactionReceipt,
  dataSlice,
  isHexString,
} from "ethers";
import { Connections, OrganizationRegistry, ReleaseRegistry } from "../../../../gen/contracts/index.js";

/** OrganizationRegistry.Role */
export const Role = {
  None: 0,
  Carrier: 1,
  Forwarder: 2,
  Transporter: 3,
  Terminal: 4,
  PortSystem: 5,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** OrganizationRegistry.Role as the cache and the API spell it. */
export const ROLE_WORDS: Record<number, string> = {
  [Role.None]: "",
  [Role.Carrier]: "carrier",
  [Role.Forwarder]: "forwarder",
  [Role.Transporter]: "transporter",
  [Role.Terminal]: "terminal",
  [Role.PortSystem]: "portsystem",
};

/** Connections.InvitationStatus */
export const InvitationStatus = { None: 0, Pending: 1, Accepted: 2, Refused: 3 } as const;
export type InvitationStatus = (typeof InvitationStatus)[keyof typeof InvitationStatus];

export const abis = {
  organizationRegistry: OrganizationRegistry.abi,
  connections: Connections.abi,
  releaseRegistry: ReleaseRegistry.abi,
} as const;

export const interfaces = {
  organizationRegistry: new Interface(OrganizationRegistry.abi),
  connections: new Interface(Connections.abi),
  releaseRegistry: new Interface(ReleaseRegistry.abi),
} as const;

export interface ContractAddresses {
  organizationRegistry: string;
  connections: string;
  releaseRegistry: string;
}

export interface ScrContracts {
  organizationRegistry: Contract;
  connections: Contract;
  releaseRegistry: Contract;
}

/** ethers Contract handles for deployed addresses (runner = a Signer to write, a Provider to read). */
export function connectContracts(addresses: ContractAddresses, runner: ContractRunner): ScrContracts {
  return {
    organizationRegistry: new Contract(addresses.organizationRegistry, OrganizationRegistry.abi, runner),
    connections: new Contract(addresses.connections, Connections.abi, runner),
    releaseRegistry: new Contract(addresses.releaseRegistry, ReleaseRegistry.abi, runner),
  };
}

export interface WaitOptions {
  /** Default 60 000 ms. */
  timeoutMs?: number;
  /** Default 100 ms. */
  pollMs?: number;
}

/**
 * Polls for the receipt of `hash` (tx.wait() can miss the block on an automining node) and
 * throws when the transaction reverted or the time is up.
 */
export async function waitForReceipt(
  provider: Provider,
  hash: string,
  options: WaitOptions = {},
): Promise<TransactionReceipt> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const pollMs = options.pollMs ?? 100;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) {
      if (receipt.status !== 1) {
        const tx = await provider.getTransaction(hash);
        const outOfGas = tx !== null && receipt.gasUsed === tx.gasLimit;
        throw new Error(
          `transaction ${hash} reverted in block ${receipt.blockNumber} ` +
            `(gas used ${receipt.gasUsed} of ${tx?.gasLimit ?? "?"}${outOfGas ? ": out of gas" : ""})`,
        );
      }
      return receipt;
    }
    if (Date.now() >= deadline) {
      throw new Error(`no receipt for transaction ${hash} after ${options.timeoutMs ?? 60_000} ms`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** How far a deployment is: `deployed` of `total` contracts, and the one being deployed. */
export interface DeployProgress {
  deployed: number;
  total: number;
  next?: string;
}

export interface DeployOptions extends WaitOptions {
  /** Gas estimate multiplier in percent. Default 120. */
  gasMarginPercent?: number;
  /** Called before each contract is deployed and once when all are. */
  onProgress?: (progress: DeployProgress) => void;
}

/**
 * Deploys OrganizationRegistry, then Connections(registry), then ReleaseRegistry(registry,
 * connections), one after the other. The signer becomes the registry administrator.
 */
export async function deployAll(signer: Signer, options: DeployOptions = {}): Promise<ContractAddresses> {
  const provider = signer.provider;
  if (!provider) throw new Error("deployAll needs a signer connected to a provider");
  const margin = BigInt(options.gasMarginPercent ?? 120);

  const deploy = async (
    artifact: { abi: ConstructorParameters<typeof ContractFactory>[0]; bytecode: string; contractName: string },
    args: unknown[],
  ): Promise<string> => {
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, signer);
    const tx = await factory.getDeployTransaction(...args);
    const estimate = await signer.estimateGas(tx);
    const sent = await signer.sendTransaction({ ...tx, gasLimit: (estimate * margin) / 100n });
    const receipt = await waitForReceipt(provider, sent.hash, options);
    if (!receipt.contractAddress) throw new Error(`deploying ${artifact.contractName} gave no contract address`);
    return receipt.contractAddress;
  };

  const step = (deployed: number, next?: string) => options.onProgress?.({ deployed, total: 3, ...(next ? { next } : {}) });
  step(0, OrganizationRegistry.contractName);
  const organizationRegistry = await deploy(OrganizationRegistry, []);
  step(1, Connections.contractName);
  const connections = await deploy(Connections, [organizationRegistry]);
  step(2, ReleaseRegistry.contractName);
  const releaseRegistry = await deploy(ReleaseRegistry, [organizationRegistry, connections]);
  step(3);
  return { organizationRegistry, connections, releaseRegistry };
}

// ---------------------------------------------------------------------------------------------
// Revert decoding

export interface DecodedRevert {
  /** Custom error name, or "Error" (require string) / "Panic" (assert, overflow, …). */
  name: string;
  /** Error arguments by name (addresses as checksummed strings, integers as bigint). */
  args: Record<string, unknown>;
  /** A readable English sentence. */
  message: string;
  /** The raw revert data. */
  data: string;
}

const errorFragments = new Map<string, ErrorFragment>();
for (const iface of Object.values(interfaces)) {
  iface.forEachError((fragment) => {
    if (!errorFragments.has(fragment.selector)) errorFragments.set(fragment.selector, fragment);
  });
}
const ERROR_STRING = "0x08c379a0"; // Error(string)
const PANIC = "0x4e487b71"; // Panic(uint256)

/** Verb phrase for the function a NotCreator / NotCurrentOwner error was raised in. */
const ACTION_VERBS: Record<string, string> = {
  update: "update",
  blockRelease: "block",
  unblockRelease: "unblock",
  deleteRelease: "delete",
  setPin: "set the pincode of",
  setTerminal: "change the terminal of",
  transfer: "transfer",
  assign: "assign",
  unassign: "unassign",
  markPinRetrieved: "retrieve the pincode of",
};

function actionVerb(selector: unknown): string {
  if (typeof selector === "string") {
    const fn = interfaces.releaseRegistry.getFunction(selector);
    if (fn) return ACTION_VERBS[fn.name] ?? `call ${fn.name} on`;
  }
  return "change";
}

const ROLE_NAMES = ["None", "Carrier", "Forwarder", "Transporter", "Terminal", "PortSystem"];
const STATUS_NAMES = ["none", "pending", "accepted", "refused"];

type Args = Record<string, unknown>;
const s = (v: unknown): string => String(v);

const MESSAGES: Record<string, (a: Args) => string> = {
  // OrganizationRegistry
  NotAdmin: (a) => `only the registry administrator can do this (caller ${s(a.caller)})`,
  ZeroAddress: () => "the zero address is not allowed here",
  InvalidRole: (a) =>
    `an organisation needs a role (Carrier, Forwarder, Transporter, Terminal or PortSystem), not ${ROLE_NAMES[Number(a.role)] ?? s(a.role)}`,
  EmptyName: () => "the organisation name is empty",
  EmptyVat: () => "the VAT number is empty",
  AccountAlreadyRegistered: (a) => `account ${s(a.account)} is already registered`,
  VatAlreadyRegistered: (a) => `VAT number ${s(a.vat)} is already registered to ${s(a.account)}`,
  OrganizationNotRegistered: (a) => `${s(a.account)} is not a registered organisation`,
  // Connections
  InvalidInvitationId: () => "the invitation id must not be zero",
  InvitationIdTaken: (a) => `invitation id ${s(a.id)} is already used`,
  InviterNotRegistered: (a) => `only a registered organisation can invite (${s(a.caller)} is not registered)`,
  CannotInviteSelf: (a) => `an organisation cannot invite itself (VAT ${s(a.vat)})`,
  InvitationAlreadyPending: (a) => `there is already an open invitation to VAT ${s(a.vat)} (${s(a.pendingId)})`,
  AlreadyConnected: (a) => `${s(a.a)} and ${s(a.b)} are already connected`,
  InvitationNotFound: (a) => `invitation ${s(a.id)} does not exist`,
  InvitationNotPending: (a) => `invitation ${s(a.id)} is no longer open (${STATUS_NAMES[Number(a.status)] ?? s(a.status)})`,
  NotInvitee: () => "only the organisation registered with the invited VAT number can answer this invitation",
  // ReleaseRegistry
  InvalidReleaseId: () => "the release address must not be the zero address",
  ReleaseAlreadyExists: (a) => `a release with address ${s(a.id)} already exists`,
  ReleaseNotFound: (a) => `release ${s(a.id)} does not exist`,
  ReleaseIsDeleted: (a) => `release ${s(a.id)} was deleted and can no longer change`,
  NotCarrier: () => "only a registered carrier can create releases",
  TerminalNotRegistered: (a) => `${s(a.terminal)} is not a registered terminal`,
  NotCreator: (a) => `only the creator can ${actionVerb(a.action)} this release`,
  NotCurrentOwner: (a) => `only the current owner can ${actionVerb(a.action)} this release`,
  NotConnected: (a) =>
    `a release can only be transferred to a connection of the current owner, and ${s(a.to)} is not connected with ${s(a.owner)}`,
  AlreadyInChain: (a) =>
    `${s(a.account)} is already in the ownership chain of this release (an earlier owner takes it back with revoke)`,
  PinAlreadyRetrieved: () => "the pincode of this release has already been retrieved, so it can no longer be transferred",
  PinNotAvailable: () =>
    "no pincode is wrapped for the current owner yet; after a revoke the carrier has to provide it again",
  NotEarlierOwner: () => "only an earlier owner of this release (not the current owner) can revoke it",
  ReleaseAlreadyBlocked: () => "this release is already blocked",
  ReleaseNotBlocked: () => "this release is not blocked",
  EmptyAssignment: () => "the assignment is empty; use unassign to remove an assignment",
  NotAssigned: () => "this release is not assigned",
  NotReleaseTerminal: (a) =>
    /^0x0{40}$/i.test(s(a.terminal))
      ? "only a registered terminal can record the gate-out of this release"
      : `only the release's terminal (${s(a.terminal)}) can record its gate-out`,
  NotGreenLightsProvider: () => "only a registered terminal or port system can set green lights",
  LengthMismatch: (a) => `got ${s(a.parties)} parties but ${s(a.wrappedKeys)} wrapped keys`,
  NotAParty: (a) =>
    `${s(a.account)} is neither in the ownership chain nor the terminal of this release, so no key can be wrapped for it`,
};

const PANIC_REASONS: Record<number, string> = {
  0x01: "assertion failed",
  0x11: "arithmetic overflow or underflow",
  0x12: "division by zero",
  0x21: "invalid enum value",
  0x32: "array index out of bounds",
  0x41: "out of memory",
};

/** Decodes raw revert data (0x + selector + args) from any of our contracts. */
export function decodeRevertData(data: string): DecodedRevert | undefined {
  if (!isHexString(data) || data.length < 10) return undefined;
  const selector = dataSlice(data, 0, 4).toLowerCase();
  const coder = AbiCoder.defaultAbiCoder();
  try {
    if (selector === ERROR_STRING) {
      const [reason] = coder.decode(["string"], dataSlice(data, 4));
      return { name: "Error", args: { message: reason as string }, message: reason as string, data };
    }
    if (selector === PANIC) {
      const [code] = coder.decode(["uint256"], dataSlice(data, 4));
      const n = Number(code as bigint);
      return {
        name: "Panic",
        args: { code: code as bigint },
        message: `contract panic 0x${n.toString(16)}: ${PANIC_REASONS[n] ?? "unknown reason"}`,
        data,
      };
    }
    const fragment = errorFragments.get(selector);
    if (!fragment) return undefined;
    const values = coder.decode(fragment.inputs, dataSlice(data, 4));
    const args: Args = {};
    fragment.inputs.forEach((input, i) => {
      args[input.name || String(i)] = values[i];
    });
    const render = MESSAGES[fragment.name];
    return { name: fragment.name, args, message: render ? render(args) : fragment.name, data };
  } catch {
    return undefined;
  }
}

/**
 * Turns an error thrown by ethers (estimateGas, staticCall, a call, or a JSON-RPC error from the
 * node) that carries revert data from one of our contracts into `{ name, args, message }`.
 * Returns undefined when the error carries no revert data we know.
 */
export function decodeRevert(error: unknown): DecodedRevert | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): DecodedRevert | undefined => {
    if (depth > 6 || value === null || value === undefined) return undefined;
    if (typeof value === "string") {
      if (isHexString(value)) return decodeRevertData(value);
      // e.g. `... data="0x…"` in a message, or a JSON body of a JSON-RPC error
      for (const m of value.matchAll(/0x[0-9a-fA-F]{8,}/g)) {
        const decoded = decodeRevertData(m[0]);
        if (decoded) return decoded;
      }
      return undefined;
    }
    if (typeof value !== "object" || seen.has(value)) return undefined;
    seen.add(value);
    if (value instanceof BaseContract) return undefined;
    const obj = value as Record<string, unknown>;
    // Most specific places first.
    for (const key of ["data", "error", "info", "revert", "cause", "body", "payload"]) {
      if (key in obj) {
        const found = visit(obj[key], depth + 1);
        if (found) return found;
      }
    }
    for (const key of Object.keys(obj)) {
      if (key === "transaction" || key === "invocation") continue; // calldata, not revert data
      const found = visit(obj[key], depth + 1);
      if (found) return found;
    }
    if (value instanceof Error) {
      const found = visit(value.message, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}
