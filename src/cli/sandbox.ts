import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { readSandboxState, type SandboxPartyKey, type SandboxState } from "../sandbox/sandbox.js";
import { LIGHT_NAMES } from "../domain/releases/model.js";
import { billOfLading, container } from "../sandbox/seed-data.js";
import type { CommandIo } from "./wallet.js";

export const SANDBOX_USAGE = `usage: scr sandbox <command> [--config <file>] [options]

The sandbox network of the embedded local chain (\`npm start\`): a demo carrier, "Test entity 2"
and a demo terminal next to this gateway ("Test entity 1"). These commands drive the other
parties through their own REST APIs, so the specification's Postman flow can be replayed.

commands:
  info                                   the parties, their addresses and URLs
  create-release [--bl <n>] [--container <n>] [--pin <p>] [--no-transfer]
                                         the carrier creates a release and transfers it to entity 1
  transfer <address> [--to entity1|entity2]
                                         the carrier transfers a release it holds
  block|unblock|delete <address>         the carrier blocks, unblocks or deletes a release
  green-lights <address> <light>=<value> ... [--source NxtPort]
                                         the terminal publishes green-light values
  call <carrier|entity2|terminal> <METHOD> <path> [<json body>]
                                         any call of a party's API, e.g. entity 2's
                                         PUT /releases/<address>/revoke
`;

class UsageError extends Error {}

interface Reply {
  status: number;
  body: unknown;
  operationId: string | null;
}

/** `scr sandbox ...`; resolves to the exit code. */
export async function sandboxCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  const out = (s: string) => io.stdout.write(s);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        bl: { type: "string" },
        container: { type: "string" },
        pin: { type: "string" },
        "no-transfer": { type: "boolean", default: false },
        to: { type: "string" },
        source: { type: "string" },
      },
    });
    const state = readSandboxState(loadConfig(values.config));
    if (!state) throw new Error("no sandbox here: start the gateway on the embedded defaults (`npm start`) first");
    const party = (key: SandboxPartyKey) => {
      const p = state.parties.find((x) => x.key === key);
      if (!p) throw new Error(`the sandbox has no ${key}`);
      return p;
    };
    const api = (key: SandboxPartyKey | "entity1") => (key === "entity1" ? state.entity1.url : party(key).url) + (state.baseURL === "/" ? "" : state.baseURL);
    const address = () => {
      const a = positionals[0];
      if (!a) throw new UsageError("the release address is missing");
      return a;
    };

    switch (sub) {
      case "info":
        out(info(state));
        return 0;
      case "create-release": {
        const created = await send(`${api("carrier")}/carrier/releases`, "POST", {
          release_data: releaseData(values.bl ?? `SANDBOX-BL-${Date.now()}`, values.container ?? "MSCU0000001"),
          pincode: values.pin ?? String(10000 + Math.floor(Math.random() * 90000)),
          terminal: party("terminal").address,
        });
        const release = (created.body as { address: string }).address;
        out(`created ${release} (operation ${created.operationId})\n`);
        if (values["no-transfer"]) return 0;
        await until(`the carrier sees ${release}`, async () => (await send(`${api("carrier")}/releases/${release}`, "GET", undefined, true)).status === 200);
        const moved = await send(`${api("carrier")}/releases/${release}/transfer`, "PUT", { address: state.entity1.address });
        out(`transferred to Test entity 1 (operation ${moved.operationId})\n`);
        return 0;
      }
      case "transfer": {
        const to = values.to ?? "entity1";
        if (to !== "entity1" && to !== "entity2") throw new UsageError("--to must be entity1 or entity2");
        const target = to === "entity1" ? state.entity1.address : party("entity2").address;
        const r = await send(`${api("carrier")}/releases/${address()}/transfer`, "PUT", { address: target });
        out(`accepted (operation ${r.operationId})\n`);
        return 0;
      }
      case "block":
      case "unblock": {
        const r = await send(`${api("carrier")}/carrier/releases/${address()}/${sub}`, "PUT");
        out(`accepted (operation ${r.operationId})\n`);
        return 0;
      }
      case "delete": {
        const r = await send(`${api("carrier")}/carrier/releases/${address()}`, "DELETE");
        out(`accepted (operation ${r.operationId})\n`);
        return 0;
      }
      case "green-lights": {
        const events: Record<string, { value: string; updatedAt: string }> = {};
        const now = new Date().toISOString().slice(0, 16).replace("T", " ");
        for (const pair of positionals.slice(1)) {
          const [light, value] = pair.split("=");
          if (!light || !value || !(LIGHT_NAMES as readonly string[]).includes(light)) {
            throw new UsageError(`"${pair}" is not <light>=<value>; lights: ${LIGHT_NAMES.join(", ")}`);
          }
          events[light] = { value, updatedAt: now };
        }
        if (Object.keys(events).length === 0) throw new UsageError("give at least one <light>=<value>");
        const r = await send(`${api("terminal")}/terminal/releases/${address()}/green_lights`, "PUT", { source: values.source ?? "NxtPort", events });
        out(`accepted (operation ${r.operationId})\n`);
        return 0;
      }
      case "call": {
        const [who, method, path, body] = positionals;
        if (who !== "carrier" && who !== "entity2" && who !== "terminal") throw new UsageError("the party is carrier, entity2 or terminal");
        if (!method || !path) throw new UsageError("call <party> <METHOD> <path> [<json body>]");
        const r = await send(`${api(who)}${path.startsWith("/") ? path : `/${path}`}`, method.toUpperCase(), body === undefined ? undefined : JSON.parse(body), true);
        out(`${r.status}${r.operationId ? ` (operation ${r.operationId})` : ""}\n${r.body === undefined ? "" : JSON.stringify(r.body, null, 2) + "\n"}`);
        return r.status < 400 ? 0 : 1;
      }
      default:
        io.stderr.write(sub ? `scr sandbox: unknown command "${sub}"\n\n${SANDBOX_USAGE}` : SANDBOX_USAGE);
        return 2;
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS_");
    io.stderr.write(`scr sandbox: ${(err as Error).message}\n${usage ? `\n${SANDBOX_USAGE}` : ""}`);
    return usage ? 2 : 1;
  }
}

function info(state: SandboxState): string {
  const rows = [
    { name: "Test entity 1 (this gateway)", address: state.entity1.address, url: state.entity1.url },
    ...state.parties.map((p) => ({ name: `${p.name} (${p.key})`, address: p.address, url: p.url })),
  ];
  return (
    "SANDBOX: test data only, on the local chain.\n\n" +
    rows.map((r) => `${r.name}\n  address: ${r.address}\n  api:     ${r.url}${state.baseURL}\n`).join("") +
    `\nseeded: ${state.seededAt ?? "not yet"}\n`
  );
}

function releaseData(blNumber: string, containerNumber: string) {
  return { billOfLading: billOfLading(blNumber), container: container(containerNumber, "45G1") };
}

async function send(url: string, method: string, body?: unknown, anyStatus = false): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON; shown as text
  }
  if (!anyStatus && res.status >= 300) {
    const description = (parsed as { description?: string } | undefined)?.description ?? text;
    throw new Error(`${method} ${new URL(url).pathname} answered ${res.status}: ${description}`);
  }
  return { status: res.status, body: parsed, operationId: res.headers.get("operation-id") };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
