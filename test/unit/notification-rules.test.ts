import { expect } from "chai";
import { isBlockedAddress } from "../../services/notification/address-guard.ts";
import { backoffMs, deliveryIdOf, MAX_ATTEMPTS } from "../../services/notification/deliveries.ts";
import { loadConfig } from "../../shared/config.ts";
import { instantOfLocalTime, reminderState, weeklySummaryDue } from "../../services/notification/schedule.ts";
import { applySettings, settingsView } from "../../services/notification/settings.ts";
import { signatureOf } from "../../services/notification/webhook-sender.ts";
import { ConfigError } from "../../shared/config.ts";
import { newId } from "../../shared/ids.ts";
import { verifySignature } from "../helpers/webhook-receiver.ts";

/** The notification service's pure rules: no broker, no I/O. */
describe("notification rules (services/notification, pure parts)", () => {
  describe("which addresses a webhook may reach", () => {
    const blocked = [
      "127.0.0.1",
      "127.255.255.254",
      "10.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "100.127.255.255",
      "0.0.0.0",
      "0.1.2.3",
      "224.0.0.251",
      "239.255.255.250",
      "255.255.255.255",
      "192.0.2.1",
      "198.18.0.1",
      "::",
      "::1",
      "fe80::1",
      "febf::1",
      "fc00::1",
      "fd12:3456:789a::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "::ffff:a9fe:a9fe",
      "::ffff:100.64.0.1",
      "64:ff9b::a00:1",
      "64:ff9b::127.0.0.1",
      "2002:7f00:1::1",
      "::127.0.0.1",
      "not-an-ip",
    ];
    const allowed = [
      "8.8.8.8",
      "1.1.1.1",
      "100.63.255.255",
      "100.128.0.1",
      "172.15.255.255",
      "172.32.0.1",
      "169.253.255.255",
      "2606:4700:4700::1111",
      "2a00:1450:4001::200e",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
      "2001:4860:4860::8888",
    ];
    for (const address of blocked) {
      it(`refuses ${address}`, () => expect(isBlockedAddress(address)).to.equal(true));
    }
    for (const address of allowed) {
      it(`allows ${address}`, () => expect(isBlockedAddress(address)).to.equal(false));
    }
  });

  describe("when reminders and summaries fall due (the user's calendar)", () => {
    const paris = { timezone: "Europe/Paris", dayStartHour: 0, weekStart: "monday" as const };

    it("reads HH:MM as local wall-clock time of the local day", () => {
      // Paris is UTC+1 in January.
      expect(instantOfLocalTime("2026-01-15", "20:00", paris).toISOString()).to.equal(
        "2026-01-15T19:00:00.000Z",
      );
    });

    it("puts an early-morning time after a late day start into the evening of that local day", () => {
      const owl = { ...paris, dayStartHour: 4 };
      // Local day 2026-01-15 runs from 04:00 on the 15th to 04:00 on the 16th: 02:00 is the 16th's wall clock.
      expect(instantOfLocalTime("2026-01-15", "02:00", owl).toISOString()).to.equal(
        "2026-01-16T01:00:00.000Z",
      );
      expect(instantOfLocalTime("2026-01-15", "05:30", owl).toISOString()).to.equal(
        "2026-01-15T04:30:00.000Z",
      );
    });

    it("is due from the reminder time to the end of the local day", () => {
      expect(reminderState(new Date("2026-01-15T18:59:00Z"), paris, "20:00")).to.deep.equal({
        today: "2026-01-15",
        due: false,
      });
      expect(reminderState(new Date("2026-01-15T19:00:00Z"), paris, "20:00")).to.deep.equal({
        today: "2026-01-15",
        due: true,
      });
      expect(reminderState(new Date("2026-01-15T23:30:00Z"), paris, "20:00")).to.deep.equal({
        today: "2026-01-16",
        due: false,
      });
    });

    it("follows daylight saving time", () => {
      // Paris is UTC+2 in July.
      expect(reminderState(new Date("2026-07-01T18:00:00Z"), paris, "20:00").due).to.equal(true);
      expect(reminderState(new Date("2026-07-01T17:59:00Z"), paris, "20:00").due).to.equal(false);
    });

    it("sends the weekly summary of the previous week on the week's first day from 08:00 local", () => {
      // 2026-03-02 is a Monday, 2026-03-01 a Sunday.
      expect(weeklySummaryDue(new Date("2026-03-02T06:59:00Z"), paris)).to.equal(null);
      expect(weeklySummaryDue(new Date("2026-03-02T07:00:00Z"), paris)).to.equal("2026-02-23");
      expect(weeklySummaryDue(new Date("2026-03-02T22:00:00Z"), paris)).to.equal("2026-02-23");
      expect(weeklySummaryDue(new Date("2026-03-02T23:00:00Z"), paris), "Tuesday in Paris").to.equal(null);
      const sundays = { ...paris, weekStart: "sunday" as const };
      expect(weeklySummaryDue(new Date("2026-03-01T07:00:00Z"), sundays)).to.equal("2026-02-22");
      expect(weeklySummaryDue(new Date("2026-03-02T07:00:00Z"), sundays)).to.equal(null);
    });

    it("with a day start after 08:00, sends it when the local day begins", () => {
      const late = { ...paris, dayStartHour: 10 };
      expect(weeklySummaryDue(new Date("2026-03-02T08:59:00Z"), late)).to.equal(null);
      expect(weeklySummaryDue(new Date("2026-03-02T09:00:00Z"), late)).to.equal("2026-02-23");
    });
  });

  describe("settings", () => {
    it("defaults to email on, 20:00, weekly summary on and every type on", () => {
      expect(settingsView(null)).to.deep.equal({
        email: true,
        reminderTime: "20:00",
        weeklySummary: true,
        types: {
          "goal.completed": true,
          "streak.milestone": true,
          "streak.at_risk": true,
          "streak.broken": true,
          "weekly.summary": true,
        },
      });
    });

    it("switches only the types a PUT names, keeping the others as they were", () => {
      const first = applySettings(null, {
        email: false,
        reminderTime: "21:15",
        weeklySummary: false,
        types: { "streak.broken": false, "weekly.summary": false },
      });
      expect(first.disabledTypes).to.deep.equal(["streak.broken", "weekly.summary"]);
      const stored = { _id: "u", ...first, updatedAt: new Date() };
      const second = applySettings(stored, {
        email: true,
        reminderTime: "07:00",
        weeklySummary: true,
        types: { "weekly.summary": true, "goal.completed": false },
      });
      expect(second).to.deep.equal({
        email: true,
        reminderTime: "07:00",
        weeklySummary: true,
        disabledTypes: ["goal.completed", "streak.broken"],
      });
    });
  });

  describe("webhook deliveries", () => {
    it("signs the raw body with HMAC-SHA256 as sha256=<hex>", () => {
      // RFC 4231 test case 2.
      expect(signatureOf("what do ya want for nothing?", "Jefe")).to.equal(
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      );
      const body = JSON.stringify({ id: "n1", type: "goal.completed", createdAt: "x", data: {} });
      expect(verifySignature(body, signatureOf(body, "whsec_a"), "whsec_a")).to.equal(true);
      expect(verifySignature(`${body} `, signatureOf(body, "whsec_a"), "whsec_a")).to.equal(false);
      expect(verifySignature(body, signatureOf(body, "whsec_a"), "whsec_b")).to.equal(false);
    });

    it("backs off exponentially with full jitter: uniform in [0, base·2^(n−1))", () => {
      expect(backoffMs(1, 1000, () => 0)).to.equal(0);
      expect(backoffMs(1, 1000, () => 0.9999)).to.equal(999);
      expect(backoffMs(3, 1000, () => 0.5)).to.equal(2000);
      expect(backoffMs(5, 50, () => 0.9999)).to.equal(799);
      expect(
        backoffMs(40, 1000, () => 0.5),
        "capped at an hour",
      ).to.equal(1_800_000);
      for (let n = 1; n < MAX_ATTEMPTS; n += 1) {
        const delay = backoffMs(n, 100);
        expect(delay)
          .to.be.at.least(0)
          .and.below(100 * 2 ** (n - 1));
      }
    });

    it("makes at least 5 attempts in all", () => expect(MAX_ATTEMPTS).to.be.at.least(5));

    it("derives one stable, URL-safe delivery id per notification and webhook", () => {
      const notification = newId();
      const [a, b] = [newId(), newId()];
      expect(deliveryIdOf(notification, a)).to.equal(deliveryIdOf(notification, a));
      expect(deliveryIdOf(notification, a)).to.not.equal(deliveryIdOf(notification, b));
      expect(deliveryIdOf(notification, a)).to.match(/^[0-9a-f]{32}$/);
      expect(deliveryIdOf(notification, a).slice(0, 12)).to.equal(notification.slice(0, 12));
    });

    it("reads WEBHOOK_RETRY_BASE_MS: default 1000, a whole number of ms, else a ConfigError naming it", () => {
      const retryBaseOf = (value: string | undefined) =>
        loadConfig({ WEBHOOK_RETRY_BASE_MS: value }).webhookRetryBaseMs;
      expect(retryBaseOf(undefined)).to.equal(1000);
      expect(retryBaseOf("")).to.equal(1000);
      expect(retryBaseOf("50")).to.equal(50);
      for (const bad of ["0", "-5", "1.5", "abc", "99999999"]) {
        expect(() => retryBaseOf(bad), bad)
          .to.throw(ConfigError)
          .with.property("variable", "WEBHOOK_RETRY_BASE_MS");
      }
    });
  });
});
