import { randomUUID } from "node:crypto";
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
export function verifyAccessToken(token: string, publicKey: string): AccessClaims | null {
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
