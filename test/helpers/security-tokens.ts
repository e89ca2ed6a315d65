import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../../shared/auth/tokens.ts";

/**
 * Hand-made JWTs for the security suite: every header and claim is chosen by the test, so a token can
 * be exactly one property away from a valid one (the wrong `typ`, an `exp` in the past, …).
 */

export type JwtHeader = Record<string, unknown>;
export type JwtPayload = Record<string, unknown>;

export function base64url(value: string | Buffer | object): string {
  const buffer =
    typeof value === "string" || Buffer.isBuffer(value)
      ? Buffer.from(value)
      : Buffer.from(JSON.stringify(value));
  return buffer.toString("base64url");
}

export function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The claims the gateway expects of an access token, valid for 15 minutes from now, with overrides. */
export function accessClaims(userId: string, overrides: JwtPayload = {}): JwtPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    role: "user",
    iat: now,
    exp: now + 15 * 60,
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: userId,
    jti: randomUUID(),
    ...overrides,
  };
}

/** The header of a real access token, with overrides (`undefined` removes a field). */
export function accessHeader(overrides: JwtHeader = {}): JwtHeader {
  const header: JwtHeader = { alg: "ES256", typ: "at+jwt", ...overrides };
  for (const key of Object.keys(header)) if (header[key] === undefined) delete header[key];
  return header;
}

/** `base64url(header).base64url(payload)`, the part a signature covers. */
export function signingInput(header: JwtHeader, payload: JwtPayload): string {
  return `${base64url(header)}.${base64url(payload)}`;
}

/** ES256 (P-256, SHA-256, the raw r||s signature of JWS) with the given PEM private key. */
export function signEs256(header: JwtHeader, payload: JwtPayload, privateKey: string): string {
  const input = signingInput(header, payload);
  const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** HS256 with any secret (a public key's PEM text included: the classic key-confusion attack). */
export function signHs(
  header: JwtHeader,
  payload: JwtPayload,
  secret: string | Buffer,
  bits: 256 | 384 | 512 = 256,
): string {
  const input = signingInput(header, payload);
  return `${input}.${createHmac(`sha${bits}`, secret).update(input).digest("base64url")}`;
}

/** RS256 with an RSA private key. */
export function signRs256(header: JwtHeader, payload: JwtPayload, privateKey: string): string {
  const input = signingInput(header, payload);
  return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
}

/** An unsigned token (`alg: none`), with an empty signature unless one is given. */
export function unsigned(header: JwtHeader, payload: JwtPayload, signature = ""): string {
  return `${signingInput(header, payload)}.${signature}`;
}

/** A real token with its payload changed and its signature kept. */
export function tamper(token: string, change: (payload: JwtPayload) => JwtPayload): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  return `${header}.${base64url(change(decodeSegment(payload)))}.${signature}`;
}

/** A fresh P-256 pair nobody trusts: what an attacker can make. */
export function attackerKeys(): { privateKey: string; publicKey: string } {
  return generateKeyPair();
}

export function attackerRsaKeys(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}

/** The public key as a JWK, for a token that carries its own key in its header. */
export function publicJwk(publicKeyPem: string): Record<string, unknown> {
  return createPublicKey(publicKeyPem).export({ format: "jwk" }) as Record<string, unknown>;
}
