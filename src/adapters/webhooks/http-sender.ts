import { Agent, request } from "undici";

export interface SenderOptions {
  connectTimeoutMs: number;
  /** For the whole answer, from the request's start. */
  responseTimeoutMs: number;
  maxResponseBytes: number;
  /** Connections per receiver origin. */
  connections?: number;
}

export type SendResult =
  | { ok: true; status: number; retryAfter: string | undefined }
  | { ok: false; error: string };

/**
 * POSTs callbacks with undici. Redirects are never followed (a 3xx is an answer, and a
 * failure); the connect and response times are bounded; at most `maxResponseBytes` of an
 * answer are read, the rest is cut off with the connection.
 */
export class HttpSender {
  private readonly agent: Agent;

  constructor(private readonly o: SenderOptions) {
    this.agent = new Agent({
      connect: { timeout: o.connectTimeoutMs },
      headersTimeout: o.responseTimeoutMs,
      bodyTimeout: o.responseTimeoutMs,
      connections: o.connections ?? 32,
      keepAliveTimeout: 4_000,
    });
  }

  /** `signal`: aborts the request (the gateway is stopping). */
  async post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult> {
    try {
      const res = await request(url, {
        method: "POST",
        headers,
        body,
        dispatcher: this.agent,
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.o.responseTimeoutMs)]) : AbortSignal.timeout(this.o.responseTimeoutMs),
      });
      let read = 0;
      try {
        for await (const chunk of res.body) {
          read += (chunk as Buffer).length;
          if (read > this.o.maxResponseBytes) break;
        }
      } finally {
        if (read > this.o.maxResponseBytes) res.body.destroy();
      }
      const retryAfter = res.headers["retry-after"];
      return { ok: true, status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (err) {
      return { ok: false, error: describe(err) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "connection reset";
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connect timeout";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "response timeout";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
  }
  if (e.name === "TimeoutError" || e.name === "AbortError") return "response timeout";
  return (code ? `${code}: ` : "") + (e.message ?? String(err));
}
