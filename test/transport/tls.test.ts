import { execFileSync } from "node:child_process";
import http2 from "node:http2";
import https from "node:https";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleaseService } from "../../gen/scr/v1/release_service_pb.js";
import { SPEC_CARRIER, SPEC_SELF, specRelease, specReleaseRecord, startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
let cert: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "scr-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(dir, "server-key.pem"), "-out", join(dir, "server-cert.pem"),
  ], { stdio: "ignore" });
  cert = readFileSync(join(dir, "server-cert.pem"), "utf8");
  gw = await startTestGateway(SPEC_SELF, { protocol: "https" }, { cert, key: readFileSync(join(dir, "server-key.pem"), "utf8") });
  gw.store.upsertOrganization(SPEC_CARRIER);
  gw.store.upsertRelease(specReleaseRecord());
});
afterAll(() => gw.stop());

function httpsGet(url: string, alpn: string[]): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: cert, agent: false, ...({ ALPNProtocols: alpn } as object) }, (res) => {
      const negotiated = (res.socket as import("node:tls").TLSSocket).alpnProtocol;
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, alpn: negotiated }));
    });
    req.on("error", reject);
  });
}

describe("with protocol https, every protocol runs over TLS on the one port", () => {
  it("REST over HTTP/1.1 (ALPN http/1.1)", async () => {
    const res = await httpsGet(`${gw.rest}/releases/${specRelease.address}`, ["http/1.1"]);
    expect(res.alpn).toBe("http/1.1");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).address).toBe(specRelease.address);
  });

  it("REST over HTTP/2 (ALPN h2)", async () => {
    const session = http2.connect(gw.url, { ca: cert });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ":path": `/tmining/api/v1/releases/${specRelease.address}` });
        let data = "";
        stream.on("data", (c) => (data += c));
        stream.on("end", () => resolve(data));
        stream.on("error", reject);
      });
      expect(session.alpnProtocol).toBe("h2");
      if (!body.includes("address")) throw new Error(body);
      expect(JSON.parse(body).address).toBe(specRelease.address);
    } finally {
      session.close();
    }
  });

  it("Connect and gRPC (connect-node) over TLS", async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", nodeOptions: { ca: cert } }),
      createGrpcTransport({ baseUrl: gw.url, nodeOptions: { ca: cert } }),
    ]) {
      const { release } = await createClient(ReleaseService, transport).getRelease({ address: specRelease.address });
      expect(release?.address).toBe(specRelease.address);
    }
  });

  it("gRPC through @grpc/grpc-js with TLS credentials", async () => {
    const client = new grpc.Client(gw.url.replace("https://", ""), grpc.credentials.createSsl(Buffer.from(cert)));
    try {
      const res = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(
          "/scr.v1.ReleaseService/ListReleases",
          (x: Buffer) => x,
          (x: Buffer) => x,
          Buffer.alloc(0),
          (err, value) => (err ? reject(err) : resolve(value as Buffer)),
        ),
      );
      expect(res.toString("latin1")).toContain(specRelease.address);
    } finally {
      client.close();
    }
  });
});
