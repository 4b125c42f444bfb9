import { once, type EventEmitter } from "node:events";
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
  /** Every accepted TCP connection, until it closes. */
  private readonly sockets = new Set<net.Socket>();
  /** Cleartext connections whose protocol is not known yet (no byte received). */
  private readonly undecided = new Set<net.Socket>();
  /** HTTP/1 connections (cleartext or TLS) with their number of requests in flight. */
  private readonly h1Busy = new Map<net.Socket, number>();
  /** HTTP/1 responses not finished yet. */
  private readonly h1Responses = new Set<http.ServerResponse>();
  private closing = false;

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
      secure.on("connection", (socket: net.Socket) => {
        socket.setNoDelay(true);
        this.accepted(socket);
      });
      this.h2 = secure;
      this.outer = secure;
    } else {
      this.h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
      // http.createServer turns Nagle off by default; this outer server must do it itself or
      // responses stall on delayed ACKs.
      this.outer = net.createServer({ noDelay: true, keepAlive: true }, (socket) => {
        this.accepted(socket);
        this.route(socket);
      });
    }
    // HTTP/1 requests arrive on h1 in cleartext and on the secure server (allowHTTP1) with TLS.
    for (const server of [this.h1, this.h2] as EventEmitter[]) {
      server.on("request", (req: http.IncomingMessage, res: http.ServerResponse | http2.Http2ServerResponse) => {
        if (res instanceof http.ServerResponse) this.trackH1(req.socket, res);
      });
    }
    this.h2.on("session", (session: http2.Http2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
  }

  private accepted(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.undecided.delete(socket);
      this.h1Busy.delete(socket);
    });
  }

  /**
   * Counts an HTTP/1 request in flight on its connection. While closing, a response not yet
   * started says `Connection: close`, and a keep-alive connection is ended once its last
   * response is out, so clients reconnect elsewhere instead of reusing it.
   */
  private trackH1(socket: net.Socket, res: http.ServerResponse): void {
    this.h1Busy.set(socket, (this.h1Busy.get(socket) ?? 0) + 1);
    this.h1Responses.add(res);
    if (this.closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      this.h1Responses.delete(res);
      const busy = this.h1Busy.get(socket);
      if (busy === undefined) return; // the connection is gone
      const left = busy - 1;
      this.h1Busy.set(socket, left);
      if (this.closing && left === 0) socket.end();
    });
  }

  /** Reads until the first bytes decide the protocol, then hands the socket over. */
  private route(socket: net.Socket): void {
    let seen = Buffer.alloc(0);
    const onEarlyError = () => socket.destroy();
    // A client that connects and says nothing must not hold a socket forever.
    const onSilence = () => socket.destroy();
    this.undecided.add(socket);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && seen.length < H2_PREFACE.length) return; // could still be either
      this.undecided.delete(socket);
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
   * left. HTTP/2 sessions get a GOAWAY; idle HTTP/1 connections are closed at once, busy ones
   * after their last response; connections that sent nothing yet are dropped.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    for (const s of this.sessions) s.close();
    for (const socket of this.undecided) socket.destroy();
    for (const [socket, busy] of this.h1Busy) if (busy === 0) socket.end();
    for (const res of this.h1Responses) if (!res.headersSent) res.shouldKeepAlive = false;
    this.h1.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    timer.unref();
    this.h1.close();
    if (this.outer !== this.h2) this.h2.close();
    await closed;
    clearTimeout(timer);
  }
}
