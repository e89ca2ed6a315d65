import { createPublicKey, type KeyObject, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const TOKEN_ISSUER = "goal-tracker";
export const TOKEN_AUDIENCE = "goal-tracker-api";
/** RFC 9068's media type for access tokens: a refresh or ID token can never pass as one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
const ALGORITHM = "ES256";

export type Role = "user" | "admin";

export interface AccessClaims {
  userId: string;
  role: Role;
}

export function signAccessToken(claims: AccessClaims, privateKey: string): string {
  return jwt.sign({ role: claims.role }, privateKey, {
    algorithm: ALGORITHM,
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    subject: claims.userId,
    jwtid: randomUUID(),
    header: { alg: ALGORITHM, typ: ACCESS_TOKEN_TYPE },
  });
}

/** Verifies signature, algorithm, issuer, audience, expiry and type; returns null for any bad token. */
export function verifyAccessToken(token: string, publicKey: string | KeyObject): AccessClaims | null {
  try {
    const decoded = jwt.verify(token, publicKey, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      complete: true,
    });
    if (decoded.header.typ !== ACCESS_TOKEN_TYPE) return null;
    const payload = decoded.payload as jwt.JwtPayload;
    if (typeof payload.sub !== "string" || (payload.role !== "user" && payload.role !== "admin")) return null;
    return { userId: payload.sub, role: payload.role };
  } catch {
    return null;
  }
}

interface VerifiedToken {
  claims: AccessClaims;
  expiresAtMs: number;
}

/**
 * The gateway's verifier: the public key parsed once (jsonwebtoken would parse the PEM on every call), and
 * tokens that verified kept until they expire, keyed by the whole token, signature included. A frontend
 * sends the same token for up to 15 minutes, and checking an ES256 signature was a third of the gateway's
 * CPU per request. A hit is only ever the exact bytes that verified; expiry is checked again on each use.
 */
export class AccessTokenVerifier {
  private readonly publicKey: KeyObject;
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(publicKeyPem: string, capacity = 10_000, now: () => number = Date.now) {
    this.publicKey = createPublicKey(publicKeyPem);
    this.capacity = capacity;
    this.now = now;
  }

  verify(token: string): AccessClaims | null {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAtMs > this.now()) return known.claims;
      this.verified.delete(token);
    }
    const claims = verifyAccessToken(token, this.publicKey);
    if (!claims) return null;
    const { exp } = jwt.decode(token) as jwt.JwtPayload;
    if (typeof exp === "number") this.remember(token, { claims, expiresAtMs: exp * 1000 });
    return claims;
  }

  private remember(token: string, entry: VerifiedToken): void {
    if (this.verified.size >= this.capacity) {
      // The oldest entry first: Map iterates in insertion order.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, entry);
  }
}
