import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** JWTs built with Node's crypto only (not jose), so the verifier is checked against another implementation. */
export const b64u = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
export const now = () => Math.floor(Date.now() / 1000);

export interface KeySetup {
  name: string;
  /** The `authentication` file name and contents. */
  file: string;
  contents: string | Buffer;
  alg: string;
  /** PEM of the public key, when asymmetric (for the HS256 confusion attack). */
  publicPem?: string;
  signRaw(alg: string, input: string): string;
}

export function hmacSetup(): KeySetup {
  const secret = "a-shared-secret-of-at-least-32-bytes-long!";
  return {
    name: "HS256 .txt secret",
    file: "auth.txt",
    contents: secret,
    alg: "HS256",
    signRaw: (alg, input) => createHmac(`sha${alg.slice(2)}`, secret).update(input).digest("base64url"),
  };
}

export function ecSetup(): KeySetup {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return asym("ES256 .pem (P-256)", privateKey, publicKey, "ES256", (input) =>
    sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url"),
  );
}

export function rsaSetup(): KeySetup {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return asym("RS256 .pem (RSA 2048)", privateKey, publicKey, "RS256", (input) =>
    sign("sha256", Buffer.from(input), privateKey).toString("base64url"),
  );
}

export function edSetup(): KeySetup {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return asym("EdDSA .pem (Ed25519)", privateKey, publicKey, "EdDSA", (input) =>
    sign(null, Buffer.from(input), privateKey).toString("base64url"),
  );
}

function asym(name: string, _priv: KeyObject, pub: KeyObject, alg: string, signer: (input: string) => string): KeySetup {
  const pem = pub.export({ type: "spki", format: "pem" }).toString();
  return { name, file: "auth.pem", contents: pem, alg, publicPem: pem, signRaw: (_alg, input) => signer(input) };
}

/** A token signed with the setup's key, with any header alg written in. */
export function token(k: KeySetup, payload: unknown, header: Record<string, unknown> = { alg: k.alg, typ: "JWT" }): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${k.signRaw(k.alg, input)}`;
}

let counter = 0;
/** Claims of a fresh valid token. */
export const fresh = (extra: Record<string, unknown> = {}) => ({ iat: now(), exp: now() + 60, sub: "t", n: ++counter, ...extra });

export const hs = (secret: string | Buffer, payload: unknown, alg = "HS256") => {
  const input = `${b64u({ alg, typ: "JWT" })}.${b64u(payload)}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret).update(input).digest("base64url")}`;
};

/** Bad tokens, by name, as full `authorization` header values (undefined: no header). */
export function corpus(k: KeySetup): Record<string, string | undefined> {
  const bearer = (t: string) => `Bearer ${t}`;
  const c: Record<string, string | undefined> = {};
  for (const alg of ["none", "None", "NONE", "nOnE"]) {
    c[`alg ${alg}`] = bearer(`${b64u({ alg, typ: "JWT" })}.${b64u(fresh())}.`);
  }
  c["alg none with a signature"] = bearer(`${b64u({ alg: "none" })}.${b64u(fresh())}.${token(k, fresh()).split(".")[2]}`);
  if (k.publicPem) {
    const pem = k.publicPem;
    c["HS256 with the public PEM as secret"] = bearer(hs(pem, fresh()));
    c["HS256 with the PEM, trimmed"] = bearer(hs(pem.trim(), fresh()));
    c["HS256 with the PEM, CRLF"] = bearer(hs(pem.replace(/\n/g, "\r\n"), fresh()));
    c["HS256 with the PEM body only"] = bearer(hs(pem.replace(/-----[^-]+-----|\s/g, ""), fresh()));
    c["HS512 with the public PEM as secret"] = bearer(hs(pem, fresh(), "HS512"));
    c["HS256 with the DER key as secret"] = bearer(
      hs(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"), fresh()),
    );
  } else {
    c["HS256 with another secret"] = bearer(hs("another-secret-of-at-least-32-bytes-long!!", fresh()));
    c["HS256 with the secret plus newline"] = bearer(hs("a-shared-secret-of-at-least-32-bytes-long!\n", fresh()));
  }
  const other = k.alg === "RS256" ? "PS256" : k.alg === "ES256" ? "ES384" : "HS512";
  c["alg not matching the signature"] = bearer(token(k, fresh(), { alg: other, typ: "JWT" }));
  c["alg of another key type"] = bearer(token(k, fresh(), { alg: k.alg === "RS256" ? "ES256" : "RS256", typ: "JWT" }));
  c["no alg"] = bearer(token(k, fresh(), { typ: "JWT" }));
  c["alg not a string"] = bearer(token(k, fresh(), { alg: ["HS256"] }));
  c["unknown crit header"] = bearer(token(k, fresh(), { alg: k.alg, crit: ["x-scr"], "x-scr": 1 }));
  c["expired"] = bearer(token(k, { iat: now() - 120, exp: now() - 60 }));
  c["nbf in the future"] = bearer(token(k, fresh({ nbf: now() + 120 })));
  c["no exp"] = bearer(token(k, { iat: now(), sub: "t" }));
  c["exp as a string"] = bearer(token(k, { iat: now(), exp: String(now() + 60) }));
  c["exp null"] = bearer(token(k, { iat: now(), exp: null }));
  c["iat as a string"] = bearer(token(k, { iat: String(now()), exp: now() + 60 }));
  c["lifetime too long (iat)"] = bearer(token(k, { iat: now(), exp: now() + 3600 }));
  c["lifetime too long (no iat)"] = bearer(token(k, { exp: now() + 3600 }));
  c["exp absurdly far"] = bearer(token(k, { exp: 1e300 }));
  c["payload not an object"] = bearer(token(k, [1, 2]));
  const good = token(k, fresh()).split(".") as [string, string, string];
  c["payload tampered"] = bearer(`${good[0]}.${b64u({ ...fresh(), sub: "admin" })}.${good[2]}`);
  const sig = good[2];
  const flipped = (sig[5] === "A" ? "B" : "A");
  c["signature tampered"] = bearer(`${good[0]}.${good[1]}.${sig.slice(0, 5)}${flipped}${sig.slice(6)}`);
  c["signature empty"] = bearer(`${good[0]}.${good[1]}.`);
  c["signature truncated"] = bearer(`${good[0]}.${good[1]}.${sig.slice(0, -4)}`);
  c["broken base64 header"] = bearer(`e#y*.${good[1]}.${good[2]}`);
  c["header not JSON"] = bearer(`${b64u("{alg:")}.${good[1]}.${good[2]}`);
  c["padded base64"] = bearer(`${good[0]}=.${good[1]}.${good[2]}`);
  c["two segments"] = bearer(`${good[0]}.${good[1]}`);
  c["four segments"] = bearer(`${good.join(".")}.x`);
  c["larger than 8 KiB"] = bearer(token(k, fresh({ pad: "x".repeat(9000) })));
  c["missing header"] = undefined;
  c["wrong scheme Basic"] = `Basic ${Buffer.from("u:p").toString("base64")}`;
  c["wrong scheme Token"] = `Token ${good.join(".")}`;
  c["bearer without token"] = "Bearer ";
  c["token without scheme"] = good.join(".");
  c["two tokens"] = `Bearer ${good.join(".")} ${good.join(".")}`;
  c["garbage"] = "Bearer not-a-jwt";
  return c;
}
