/**
 * Starts a local anvil (Foundry's dev node) on 127.0.0.1.
 *
 * The binary is spawned directly (not through npx) so that the PID is ours to stop. anvil has no
 * `--port 0`, so a free port is found by listening on port 0 and closing; if anvil then loses the
 * race for it (EADDRINUSE) another port is tried.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";

export const DEFAULT_ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
export const DEFAULT_ANVIL_CHAIN_ID = 31337;

export interface AnvilOptions {
  /** anvil `--state <file>`: loaded at start when it exists, dumped on exit (and periodically). */
  stateFile?: string;
  /** Seconds between periodic state dumps when `stateFile` is set (`--state-interval`). Default 10. */
  stateIntervalSeconds?: number;
  /** Default 31337. */
  chainId?: number;
  /** Seconds per block (interval mining); undefined = automine (a block per transaction). */
  blockTime?: number;
  /**
   * Automine plus a block every so many seconds (`--mixed-mining`). Pure automine can leave
   * ready transactions unmined when many arrive at once out of nonce order
   * (foundry-rs/foundry#10122); the interval block picks them up. Ignored with blockTime.
   */
  mixedMiningSeconds?: number;
  /** Default: anvil's well-known test mnemonic. */
  mnemonic?: string;
  /** Number of funded accounts derived from the mnemonic (anvil's default is 10). */
  accounts?: number;
  /** true (default): anvil runs with `--silent`; false: its output is passed to `onOutput`. */
  silent?: boolean;
  /** Receives anvil's stdout/stderr lines when `silent` is false. Default: process.stderr. */
  onOutput?: (line: string) => void;
  /** Time allowed for anvil to answer `eth_chainId`. Default 15 000 ms. */
  startTimeoutMs?: number;
  /** Extra command-line arguments passed to anvil as they are. */
  extraArgs?: string[];
}

export interface AnvilHandle {
  rpcUrl: string;
  pid: number;
  port: number;
  chainId: number;
  /** SIGTERM (anvil dumps its state), wait for exit, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class AnvilError extends Error {
  override name = "AnvilError";
}

const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
  "win32-x64": "@foundry-rs/anvil-win32-amd64",
};

/**
 * Absolute path of the anvil binary shipped by the `@foundry-rs/anvil-<os>-<arch>` npm package.
 * `ANVIL_PATH` in the environment overrides it.
 */
export function anvilBinaryPath(): string {
  const fromEnv = process.env.ANVIL_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new AnvilError(`ANVIL_PATH points to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new AnvilError(
      `no anvil binary package for ${key}; install Foundry's anvil and set ANVIL_PATH to the binary`,
    );
  }
  const require = createRequire(import.meta.url);
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  let path: string;
  try {
    path = require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    try {
      path = resolve(dirname(require.resolve(`${pkg}/package.json`)), "bin", exe);
    } catch {
      throw new AnvilError(
        `anvil binary not found: npm package ${pkg} is not installed (it comes with the dev dependency ` +
          `@foundry-rs/anvil; run npm install, or set ANVIL_PATH to an anvil binary)`,
      );
    }
  }
  if (!existsSync(path)) throw new AnvilError(`anvil binary not found at ${path} (package ${pkg} is incomplete)`);
  return path;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new AnvilError("could not find a free port"))));
    });
  });
}

const MAX_PORT_ATTEMPTS = 5;
const TAIL_LINES = 40;

/** Starts anvil and waits until it answers JSON-RPC. */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilHandle> {
  const binary = anvilBinaryPath();
  let lastError: unknown;
  for (let attempt = 1; attempt <= MAX_PORT_ATTEMPTS; attempt++) {
    const port = await findFreePort();
    try {
      return await startOnPort(binary, port, options);
    } catch (err) {
      if (err instanceof PortInUseError) {
        lastError = err;
        continue;
      }
      throw err;
    }
  }
  throw new AnvilError(
    `anvil could not bind a port after ${MAX_PORT_ATTEMPTS} attempts: ${(lastError as Error | undefined)?.message ?? ""}`,
  );
}

class PortInUseError extends AnvilError {}

function buildArgs(port: number, o: AnvilOptions): string[] {
  const args = ["--host", "127.0.0.1", "--port", String(port)];
  args.push("--chain-id", String(o.chainId ?? DEFAULT_ANVIL_CHAIN_ID));
  args.push("--mnemonic", o.mnemonic ?? DEFAULT_ANVIL_MNEMONIC);
  if (o.accounts !== undefined) args.push("--accounts", String(o.accounts));
  if (o.blockTime !== undefined) {
    if (!(o.blockTime > 0)) throw new AnvilError(`blockTime must be a positive number of seconds, got ${o.blockTime}`);
    args.push("--block-time", String(o.blockTime));
  } else if (o.mixedMiningSeconds !== undefined) {
    if (!(o.mixedMiningSeconds > 0)) throw new AnvilError(`mixedMiningSeconds must be positive, got ${o.mixedMiningSeconds}`);
    args.push("--mixed-mining", "--block-time", String(o.mixedMiningSeconds));
  }
  if (o.stateFile) {
    const file = resolve(o.stateFile);
    mkdirSync(dirname(file), { recursive: true });
    args.push("--state", file, "--state-interval", String(o.stateIntervalSeconds ?? 10));
  }
  if (o.silent ?? true) args.push("--silent");
  if (o.extraArgs) args.push(...o.extraArgs);
  return args;
}

async function startOnPort(binary: string, port: number, o: AnvilOptions): Promise<AnvilHandle> {
  const args = buildArgs(port, o);
  const silent = o.silent ?? true;
  const onOutput = o.onOutput ?? ((line: string) => process.stderr.write(`[anvil] ${line}\n`));
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (!silent) onOutput(line);
  };

  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
  const pid = child.pid;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolveErr) => child.once("error", resolveErr));
  forwardLines(child, remember);

  track(child, exited);

  const rpcUrl = `http://127.0.0.1:${port}`;
  const timeoutMs = o.startTimeoutMs ?? 15_000;
  const describeTail = (): string => (tail.length ? `\nanvil output (last lines):\n${tail.join("\n")}` : "");

  const ready = waitForRpc(rpcUrl, timeoutMs);
  const outcome = await Promise.race([
    ready.then((chainId) => ({ kind: "ready" as const, chainId })),
    exited.then((e) => ({ kind: "exited" as const, ...e })),
    spawnError.then((error) => ({ kind: "spawn-error" as const, error })),
  ]);
  ready.cancel();

  if (outcome.kind === "spawn-error") {
    throw new AnvilError(`could not start anvil (${binary}): ${outcome.error.message}`);
  }
  if (outcome.kind === "exited") {
    // Give the pipes a moment to deliver the last lines.
    await new Promise((r) => setImmediate(r));
    const text = tail.join("\n");
    if (/address already in use|os error 98|EADDRINUSE/i.test(text)) {
      throw new PortInUseError(`port ${port} is already in use`);
    }
    throw new AnvilError(
      `anvil exited before it was ready (code ${outcome.code ?? "none"}, signal ${outcome.signal ?? "none"})${describeTail()}`,
    );
  }
  if (outcome.kind === "ready" && outcome.chainId === undefined) {
    await stopChild(child, exited);
    throw new AnvilError(`anvil did not answer eth_chainId on ${rpcUrl} within ${timeoutMs} ms${describeTail()}`);
  }
  if (pid === undefined) throw new AnvilError("anvil started without a pid");

  let stopping: Promise<void> | undefined;
  return {
    rpcUrl,
    pid,
    port,
    chainId: outcome.chainId ?? o.chainId ?? DEFAULT_ANVIL_CHAIN_ID,
    exited,
    stop: () => (stopping ??= stopChild(child, exited)),
  };
}

/** Children still running; SIGTERMed if this process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess, exited: Promise<unknown>): void {
  running.add(child);
  void exited.then(() => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    });
  }
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    stream.setEncoding("utf8");
    let buffer = "";
    stream.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (line.length > 0) onLine(line);
      }
    });
    stream.on("end", () => {
      if (buffer.length > 0) onLine(buffer);
      buffer = "";
    });
  }
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), 5_000);
  });
  const first = await Promise.race([exited, killed]);
  clearTimeout(timer);
  if (first === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Polls eth_chainId until it answers (→ the chain id) or the time is up (→ undefined). */
function waitForRpc(rpcUrl: string, timeoutMs: number): Promise<number | undefined> & { cancel(): void } {
  let cancelled = false;
  const run = async (): Promise<number | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (!cancelled && Date.now() < deadline) {
      try {
        const res = await fetch(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
          signal: AbortSignal.timeout(1_000),
        });
        if (res.ok) {
          const body = (await res.json()) as { result?: unknown };
          if (typeof body.result === "string") return Number.parseInt(body.result, 16);
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  };
  const promise = run() as Promise<number | undefined> & { cancel(): void };
  promise.cancel = () => {
    cancelled = true;
  };
  return promise;
}
