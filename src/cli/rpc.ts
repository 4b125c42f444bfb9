/**
 * One JSON-RPC call with a deadline, for the commands that check a node (`scr init`,
 * `scr status`): an ethers provider retries an unreachable node forever.
 */
import { redactUrl } from "../config/redact.js";

export class RpcError extends Error {
  override readonly name = "RpcError";
}

let id = 0;

export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 5000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new RpcError(`the node at ${redactUrl(url)} does not answer: ${why}`);
  }
  const text = await res.text();
  let body: { result?: T; error?: { message?: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new RpcError(`the node at ${redactUrl(url)} answered ${method} with HTTP ${res.status} and no JSON-RPC body`);
  }
  if (body.error) throw new RpcError(`the node at ${redactUrl(url)} refused ${method}: ${body.error.message ?? "error"}`);
  return body.result as T;
}
