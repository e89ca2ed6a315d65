import { expect } from "chai";
import { DEFAULT_MAX_ATTEMPTS, type DeliveryInfo, retryDelayMs } from "../../shared/bus/channels.ts";
import { MemoryBus } from "../../shared/bus/memory.ts";

type Deleted = { userId: string; deletedAt: string };

function deleted(userId: string): Deleted {
  return { userId, deletedAt: "2026-11-22T08:15:00.000Z" };
}

describe("the in-process channel bus (shared/bus/memory.ts)", () => {
  let bus: MemoryBus;

  beforeEach(() => {
    // A 1 ms backoff: retries happen at once, with the same rules as in production.
    bus = new MemoryBus(() => 1);
  });

  afterEach(async () => {
    await bus.close();
  });

  it("delivers each message once to a consumer group", async () => {
    const received: Deleted[] = [];
    await bus.subscribe("user.deleted", "goals", async (payload) => {
      received.push(payload);
    });
    await bus.publish("user.deleted", deleted("u1"));
    await bus.publish("user.deleted", deleted("u2"));
    await bus.idle();
    expect(received).to.deep.equal([deleted("u1"), deleted("u2")]);
  });

  it("delivers every message to each of two groups", async () => {
    const goals: string[] = [];
    const stats: string[] = [];
    await bus.subscribe("user.deleted", "goals", async (payload) => {
      goals.push(payload.userId);
    });
    await bus.subscribe("user.deleted", "stats", async (payload) => {
      stats.push(payload.userId);
    });
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(goals).to.deep.equal(["u1"]);
    expect(stats).to.deep.equal(["u1"]);
  });

  it("does not deliver to a group that subscribed after the publish (no replay in memory)", async () => {
    await bus.publish("user.deleted", deleted("early"));
    const received: string[] = [];
    await bus.subscribe("user.deleted", "late", async (payload) => {
      received.push(payload.userId);
    });
    await bus.idle();
    expect(received).to.deep.equal([]);
  });

  it("retries a failing handler, counting attempts, until it succeeds", async () => {
    const attempts: number[] = [];
    await bus.subscribe("user.deleted", "goals", async (_payload, info: DeliveryInfo) => {
      attempts.push(info.attempt);
      if (info.attempt < 3) throw new Error("database is down");
    });
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(attempts).to.deep.equal([1, 2, 3]);
    expect(bus.deadLetters).to.deep.equal([]);
  });

  it("asks its backoff function for the delay after each failed attempt, and waits that long", async () => {
    const asked: number[] = [];
    const slowBus = new MemoryBus((attempt) => {
      asked.push(attempt);
      return 20;
    });
    const times: number[] = [];
    await slowBus.subscribe("user.deleted", "goals", async (_payload, info) => {
      times.push(Date.now());
      if (info.attempt < 3) throw new Error("not yet");
    });
    await slowBus.publish("user.deleted", deleted("u1"));
    await slowBus.idle();
    await slowBus.close();
    expect(asked).to.deep.equal([1, 2]);
    expect(times).to.have.length(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).to.be.at.least(15);
    expect((times[2] ?? 0) - (times[1] ?? 0)).to.be.at.least(15);
  });

  it("dead-letters a message after maxAttempts failures, keeping the payload and the error", async () => {
    let calls = 0;
    await bus.subscribe(
      "user.deleted",
      "mailer",
      async () => {
        calls += 1;
        throw new Error("smtp refused");
      },
      { maxAttempts: 4 },
    );
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(calls).to.equal(4);
    expect(bus.deadLetters).to.have.length(1);
    expect(bus.deadLetters[0]).to.deep.include({
      channel: "user.deleted",
      group: "mailer",
      payload: deleted("u1"),
    });
    expect(bus.deadLetters[0]?.error).to.contain("smtp refused");
    expect(await bus.deadLetterCount()).to.equal(1);
  });

  it(`gives up after ${DEFAULT_MAX_ATTEMPTS} attempts by default`, async () => {
    let calls = 0;
    await bus.subscribe("user.deleted", "mailer", async () => {
      calls += 1;
      throw new Error("always");
    });
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(calls).to.equal(DEFAULT_MAX_ATTEMPTS);
    expect(bus.deadLetters).to.have.length(1);
  });

  it("a failing group does not hold back or repeat delivery to another group", async () => {
    const healthy: string[] = [];
    await bus.subscribe("user.deleted", "healthy", async (payload) => {
      healthy.push(payload.userId);
    });
    await bus.subscribe(
      "user.deleted",
      "broken",
      async () => {
        throw new Error("broken");
      },
      { maxAttempts: 3 },
    );
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(healthy).to.deep.equal(["u1"]);
    expect(bus.deadLetters.map((letter) => letter.group)).to.deep.equal(["broken"]);
  });

  it("drops a second publish of the same messageId", async () => {
    const received: string[] = [];
    await bus.subscribe("user.deleted", "goals", async (payload) => {
      received.push(payload.userId);
    });
    await bus.publish("user.deleted", deleted("u1"), "msg-1");
    await bus.publish("user.deleted", deleted("u1"), "msg-1");
    await bus.publish("user.deleted", deleted("u2"), "msg-2");
    await bus.publish("user.deleted", deleted("u3"));
    await bus.publish("user.deleted", deleted("u3"));
    await bus.idle();
    expect(received).to.deep.equal(["u1", "u2", "u3", "u3"]);
  });

  it("hands each group its own copy of the payload", async () => {
    const published = deleted("u1");
    const seenBySecond: Deleted[] = [];
    await bus.subscribe("user.deleted", "first", async (payload) => {
      payload.userId = "mutated";
    });
    await bus.subscribe("user.deleted", "second", async (payload) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seenBySecond.push(payload);
    });
    await bus.publish("user.deleted", published);
    published.userId = "changed after publish";
    await bus.idle();
    expect(seenBySecond).to.deep.equal([deleted("u1")]);
  });

  it("a retry gets the original payload, not one the failed attempt mutated", async () => {
    const seen: string[] = [];
    await bus.subscribe("user.deleted", "goals", async (payload, info) => {
      seen.push(payload.userId);
      payload.userId = "mutated";
      if (info.attempt === 1) throw new Error("once");
    });
    await bus.publish("user.deleted", deleted("u1"));
    await bus.idle();
    expect(seen).to.deep.equal(["u1", "u1"]);
  });

  it("idle() resolves at once when nothing is going on, and only after all work including retries", async () => {
    await bus.idle();
    let finished = 0;
    await bus.subscribe("user.deleted", "goals", async (_payload, info) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (info.attempt < 2) throw new Error("retry me");
      finished += 1;
    });
    for (const id of ["a", "b", "c"]) await bus.publish("user.deleted", deleted(id));
    expect(finished).to.equal(0);
    await bus.idle();
    expect(finished).to.equal(3);
  });

  it("refuses to publish once closed, and ping() reports it", async () => {
    await bus.ping();
    await bus.close();
    let publishError: unknown;
    await bus.publish("user.deleted", deleted("u1")).catch((error: unknown) => {
      publishError = error;
    });
    expect(publishError).to.be.instanceOf(Error);
    let pingError: unknown;
    await bus.ping().catch((error: unknown) => {
      pingError = error;
    });
    expect(pingError).to.be.instanceOf(Error);
  });
});

describe("retry backoff (retryDelayMs in shared/bus/channels.ts)", () => {
  const base = 500;
  const max = 30_000;

  /** The upper bound for an attempt: base × 2^(attempt-1), capped at max. */
  function ceiling(attempt: number): number {
    return Math.min(max, base * 2 ** (attempt - 1));
  }

  it("stays within [ceiling/2, ceiling] for every attempt (full jitter on the upper half)", () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      for (let sample = 0; sample < 200; sample += 1) {
        const delay = retryDelayMs(attempt, base, max);
        expect(delay, `attempt ${attempt}`).to.be.within(ceiling(attempt) / 2, ceiling(attempt));
      }
    }
  });

  it("grows exponentially: the ceiling doubles with each attempt until the maximum", () => {
    // The smallest delay of attempt n+1 is the largest of attempt n: delays never shrink.
    for (let attempt = 1; attempt < 6; attempt += 1) {
      const highest = Math.max(...Array.from({ length: 100 }, () => retryDelayMs(attempt, base, max)));
      const lowest = Math.min(...Array.from({ length: 100 }, () => retryDelayMs(attempt + 1, base, max)));
      expect(lowest).to.be.at.least(highest);
    }
  });

  it("never exceeds the maximum, even for very late attempts", () => {
    for (const attempt of [7, 10, 50, 1000]) {
      expect(retryDelayMs(attempt, base, max)).to.be.within(max / 2, max);
    }
    expect(retryDelayMs(1000)).to.be.at.most(30_000);
  });

  it("uses 500 ms as the base by default and treats attempt 0 like attempt 1", () => {
    for (let sample = 0; sample < 50; sample += 1) {
      expect(retryDelayMs(1)).to.be.within(250, 500);
      expect(retryDelayMs(0)).to.be.within(250, 500);
    }
  });

  it("returns whole milliseconds", () => {
    for (let attempt = 1; attempt < 10; attempt += 1) {
      expect(Number.isInteger(retryDelayMs(attempt))).to.equal(true);
    }
  });
});
