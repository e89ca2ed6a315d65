import { expect } from "chai";
import { retryAfterSeconds, windowOf } from "../../shared/domain/throttle.ts";

const MINUTE = 60_000;

describe("fixed windows for rate limits (shared/domain/throttle.ts)", () => {
  describe("windowOf", () => {
    it("gives every instant of one window the same index, and the window's end", () => {
      const start = 1_700_000_040_000; // a multiple of one minute
      expect(start % MINUTE).to.equal(0);
      const first = windowOf(start, MINUTE);
      const last = windowOf(start + MINUTE - 1, MINUTE);
      expect(first).to.deep.equal(last);
      expect(first.endsAt).to.equal(start + MINUTE);
    });

    it("starts a new window exactly at the end of the previous one", () => {
      const window = windowOf(123_456_789, MINUTE);
      const next = windowOf(window.endsAt, MINUTE);
      expect(next.index).to.equal(window.index + 1);
      expect(next.endsAt).to.equal(window.endsAt + MINUTE);
    });

    it("puts instant 0 in window 0, which ends after one length", () => {
      expect(windowOf(0, MINUTE)).to.deep.equal({ index: 0, endsAt: MINUTE });
    });

    it("works for any window length, such as the 15 minutes of login throttling", () => {
      const fifteen = 15 * MINUTE;
      expect(windowOf(14 * MINUTE, fifteen).index).to.equal(0);
      expect(windowOf(15 * MINUTE, fifteen).index).to.equal(1);
      expect(windowOf(29 * MINUTE, fifteen)).to.deep.equal({ index: 1, endsAt: 30 * MINUTE });
    });
  });

  describe("retryAfterSeconds", () => {
    const window = windowOf(0, MINUTE);

    it("is the whole window at its first instant", () => {
      expect(retryAfterSeconds(0, window)).to.equal(60);
    });

    it("rounds up, so that a client never retries inside the window it was refused in", () => {
      expect(retryAfterSeconds(58_999, window)).to.equal(2);
      expect(retryAfterSeconds(59_000, window)).to.equal(1);
      expect(retryAfterSeconds(59_001, window)).to.equal(1);
      expect(retryAfterSeconds(30_500, window)).to.equal(30);
    });

    it("is at least 1 second, even at the window's last millisecond or after it", () => {
      expect(retryAfterSeconds(59_999, window)).to.equal(1);
      expect(retryAfterSeconds(MINUTE, window)).to.equal(1);
      expect(retryAfterSeconds(MINUTE + 5000, window)).to.equal(1);
    });

    it("waiting that long always lands in a later window", () => {
      for (let now = 0; now < MINUTE; now += 997) {
        const wait = retryAfterSeconds(now, window);
        expect(windowOf(now + wait * 1000, MINUTE).index, `at ${now}`).to.be.greaterThan(window.index);
      }
    });
  });
});
