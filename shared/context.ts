import type { Context } from "moleculer";
import type { Role } from "./auth/tokens.ts";

export interface AuthUser {
  id: string;
  role: Role;
}

/** What the gateway puts in every call's meta, and what actions may set for the HTTP response. */
export interface RequestMeta {
  user?: AuthUser | null;
  requestId?: string;
  clientIp?: string;
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey?: string;
  /** The version in an `If-Match` header, when sent. */
  ifMatch?: number;
  $statusCode?: number;
  $location?: string;
  $responseType?: string;
  $responseHeaders?: Record<string, string>;
}

export type RequestContext<P = Record<string, never>> = Context<P, RequestMeta>;
