/**
 * A real HTTP receiver of callbacks on 127.0.0.1, whose behaviour a test switches: answer 200,
 * answer another status (with headers), hold answers back, or refuse connections (closed).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  /** The raw body, as signed. */
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The status this receiver answers (perhaps after a delay). */
  answered: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  /** Send 1 KiB every 10 ms and never end the body. */
  endless?: boolean;
}

export type Behaviour = Answer | ((req: http.IncomingMessage, raw: string) => Answer);

export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = { status: 200 };
  private server: http.Server | undefined;
  private sockets = new Set<import("node:net").Socket>();
  port = 0;

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/callback`;
  }

  /** Accepts connections again, on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const b = typeof this.behaviour === "function" ? this.behaviour(req, raw) : this.behaviour;
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        this.received.push({ at: Date.now(), headers: req.headers, raw, body, answered: b.status });
        const answer = () => {
          res.writeHead(b.status, b.headers);
          if (!b.endless) return void res.end(b.body ?? "");
          const timer = setInterval(() => res.write("x".repeat(1024)), 10);
          res.on("close", () => clearInterval(timer));
        };
        if (b.delayMs) setTimeout(answer, b.delayMs);
        else answer();
      });
    });
    server.keepAliveTimeout = 1_000;
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection: callers get "connection refused". */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests that were answered 2xx. */
  delivered(): Received[] {
    return this.received.filter((r) => r.answered >= 200 && r.answered < 300);
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
