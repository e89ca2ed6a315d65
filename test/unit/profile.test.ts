import { expect } from "chai";
import {
  defaultDisplayName,
  isIanaTimeZone,
  normalizeEmail,
  PROFILE_DEFAULTS,
  roleFor,
} from "../../shared/domain/profile.ts";

describe("profile rules (shared/domain/profile.ts)", () => {
  describe("isIanaTimeZone accepts names from the zone database", () => {
    for (const name of [
      "UTC",
      "Europe/Paris",
      "America/Argentina/Buenos_Aires",
      "Asia/Kolkata",
      "Etc/GMT+5",
      "Etc/GMT-14",
      "America/Port-au-Prince",
      "US/Pacific",
    ]) {
      it(`accepts ${name}`, () => {
        expect(isIanaTimeZone(name)).to.equal(true);
      });
    }
  });

  describe("isIanaTimeZone rejects what is not a zone name", () => {
    for (const [name, why] of [
      ["+05:30", "an offset: not a zone, and no DST rules"],
      ["-08:00", "an offset"],
      ["UTC+1", "an offset written after a name"],
      ["Mars/Olympus", "a well-formed name the database does not know"],
      ["", "the empty string"],
      ["Europe/", "a region without a city"],
      ["Europe//Paris", "an empty path segment"],
      ["../etc", "a path traversal"],
      ["/etc/localtime", "an absolute path"],
      ["Europe/Paris ", "trailing whitespace"],
      ["Europe/Paris\n", "a trailing newline"],
      ["Etc/GMT+15", "an Etc offset beyond the database's range"],
    ]) {
      it(`rejects ${JSON.stringify(name)} (${why})`, () => {
        expect(isIanaTimeZone(name ?? "")).to.equal(false);
      });
    }
  });

  it("defaults a new profile to UTC, a day starting at midnight and weeks starting on Monday", () => {
    expect(PROFILE_DEFAULTS).to.deep.equal({ timezone: "UTC", dayStartHour: 0, weekStart: "monday" });
  });

  describe("normalizeEmail", () => {
    it("lower-cases, so that emails compare case-insensitively", () => {
      expect(normalizeEmail("Ann.Lee@Example.COM")).to.equal("ann.lee@example.com");
    });

    it("trims surrounding whitespace", () => {
      expect(normalizeEmail("  ann@example.com\t")).to.equal("ann@example.com");
    });

    it("is idempotent", () => {
      const once = normalizeEmail(" Ann@Example.com ");
      expect(normalizeEmail(once)).to.equal(once);
    });
  });

  describe("roleFor", () => {
    const admins = ["boss@example.com", "ops@example.com"];

    it("makes an email listed in ADMIN_EMAILS an admin, whatever its case or surrounding spaces", () => {
      expect(roleFor("boss@example.com", admins)).to.equal("admin");
      expect(roleFor(" BOSS@Example.com ", admins)).to.equal("admin");
    });

    it("makes everyone else a user", () => {
      expect(roleFor("ann@example.com", admins)).to.equal("user");
      expect(roleFor("boss@example.com.evil.test", admins)).to.equal("user");
      expect(roleFor("boss@example.com", [])).to.equal("user");
    });
  });

  describe("defaultDisplayName", () => {
    it("is the part of the email before the @", () => {
      expect(defaultDisplayName("ann.lee@example.com")).to.equal("ann.lee");
    });

    it("falls back to the whole email when that part is empty", () => {
      expect(defaultDisplayName("@example.com")).to.equal("@example.com");
    });
  });
});
