import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Node's per-request timeout for HTTP/1.1 (the whole request must arrive in time). */
  requestTimeoutMs: number;
}

/** The client preface of HTTP/2 with prior knowledge (RFC 9113 §3.4) starts with this. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One port for every protocol. In cleartext, HTTP/2 with prior knowledge (gRPC, Connect over
 * h2c) and HTTP/1.1 (REST, Connect, gRPC-Web) are told apart by the first bytes of each
 * connection; Node's `allowHTTP1` only works with TLS. With TLS, ALPN chooses h2 or
 * http/1.1. Both paths reach the same request handler.
 */
export class Listener {
  readonly h1: http.Server;
  readonly h2: http2.Http2Server | http2.Http2SecureServer;
  private readonly outer: net.Server;
  private readonly sessions = new Set<http2.Http2Session>();

  constructor(
    handler: RequestHandler,
    private readonly opts: ListenerOptions,
  ) {
    this.h1 = http.createServer({ requestTimeout: opts.requestTimeoutMs }, handler as http.RequestListener);
    if (opts.tls) {
      const secure = http2.createSecureServer(
        { cert: opts.tls.cert, key: opts.tls.key, allowHTTP1: true, ALPNProtocols: ["h2", "http/1.1"] },
        handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
      );
      secure.on("connection", (socket: net.Socket) => socket.setNoDelay(true));
      this.h2 = secure;
      this.outer = secure;
    } else {
      this.h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
      // http.createServer turns Nagle off by default; this outer server must do it itself or
      // responses stall on delayed ACKs.
      this.outer = net.createServer({ noDelay: true, keepAlive: true }, (socket) => this.route(socket));
    }
    this.h2.on("session", (session: http2.Http2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
  }

  /** Reads until the first bytes decide the protocol, then hands the socket over. */
  private route(socket: net.Socket): void {
    let seen = Buffer.alloc(0);
    const onEarlyError = () => socket.destroy();
    // A client that connects and says nothing must not hold a socket forever.
    const onSilence = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && seen.length < H2_PREFACE.length) return; // could still be either
      socket.off("data", onData);
      socket.off("error", onEarlyError);
      socket.off("timeout", onSilence);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        this.h2.emit("connection", socket);
      } else {
        this.h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", onEarlyError);
    socket.setTimeout(this.opts.requestTimeoutMs);
    socket.once("timeout", onSilence);
  }

  async listen(): Promise<AddressInfo> {
    this.outer.listen(this.opts.port, this.opts.host);
    await once(this.outer, "listening");
    // The HTTP/1 server never listens itself; its connection tracking and timeouts start on
    // this event.
    this.h1.emit("listening");
    return this.outer.address() as AddressInfo;
  }

  address(): AddressInfo {
    return this.outer.address() as AddressInfo;
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is
   * left. HTTP/2 sessions get a GOAWAY first.
   */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    for (const s of this.sessions) s.close();
    this.h1.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
      this.h1.closeAllConnections();
    }, graceMs);
    timer.unref();
    this.h1.close();
    if (this.outer !== this.h2) this.h2.close();
    await closed;
    clearTimeout(timer);
  }
}
