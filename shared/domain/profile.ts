/** The rules of a user's profile: pure, no I/O. */

export type WeekStart = "monday" | "sunday";

export const PROFILE_DEFAULTS = { timezone: "UTC", dayStartHour: 0, weekStart: "monday" as WeekStart };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A name such as `UTC`, `Europe/Paris` or `America/Argentina/Buenos_Aires` that the zone database knows. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isIanaTimeZone(name: string): boolean {
  // Intl also accepts offsets such as "+05:30", which are not zone names and do not follow DST rules.
  if (!ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function defaultDisplayName(email: string): string {
  return email.split("@")[0] || email;
}

export function roleFor(email: string, adminEmails: readonly string[]): "user" | "admin" {
  return adminEmails.includes(normalizeEmail(email)) ? "admin" : "user";
}
