import { randomBytes } from "node:crypto";

/** Opaque, URL-safe ids that sort by creation time (48-bit milliseconds, then 80 random bits). */
export function newId(now: number = Date.now()): string {
  return now.toString(16).padStart(12, "0") + randomBytes(10).toString("hex");
}
