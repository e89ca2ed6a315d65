/**
 * The asynchronous pipeline survives what production throws at it, on the real distributed stack
 * (one process per service, NATS JetStream, FerretDB): consumers killed mid-stream, a database outage
 * of 30 s, duplicated messages. Afterwards nothing is lost and nothing is counted twice.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { ALL_SERVICES } from "../../shared/config.ts";
import type { ActivityChange, GoalState } from "../../shared/bus/channels.ts";
import { JetStreamBus } from "../../shared/bus/jetstream.ts";
import { Cluster } from "../../scripts/cluster-lib.ts";
import { freePort, freePortRange } from "../../scripts/ports.ts";
import { Api, registerUser } from "../helpers/api.ts";
import { NATS_URL, removeNamespaceStreams, tempDir, uniqueName } from "../helpers/environment.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FAULT_ENV = {
  LOG_LEVEL: "error",
  NODE_ENV: "test",
  RATE_LIMIT_PER_MINUTE: "0",
  ADMIN_EMAILS: "admin@example.test",
};

interface Goal {
  id: string;
  version: number;
  startDate: string;
  endDate: string | null;
  target?: number;
  progress: { value: number } | null;
}

function ferret(command: "start" | "stop", dir: string, port?: number): string {
  const args = [path.join(ROOT, `scripts/ferretdb/${command}.sh`), dir, ...(port ? [String(port)] : [])];
  const result = spawnSync("bash", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ferretdb ${command} failed: ${result.stderr}`);
  return result.stdout.trim();
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  return value;
}

describe("The pipeline under faults (NATS JetStream + FerretDB, one process per service)", function () {
  this.timeout(300_000);
  const namespace = uniqueName("f-");
  let ferretDir: { dir: string; remove(): Promise<void> };
  let ferretPort: number;
  let cluster: Cluster;
  let api: Api;
  let bus: JetStreamBus;

  before(async () => {
    ferretDir = await tempDir("goal-tracker-faults-db-");
    ferretPort = await freePort();
    const mongo = ferret("start", ferretDir.dir, ferretPort);
    const data = await tempDir("goal-tracker-faults-");
    const keys = generateKeyPair();
    cluster = new Cluster({
      env: {
        ...FAULT_ENV,
        TRANSPORTER: NATS_URL,
        CHANNELS_URL: NATS_URL,
        MONGO_URL: `${mongo}${namespace.replace(/-/g, "_")}`,
        NAMESPACE: namespace,
        JWT_PRIVATE_KEY: keys.privateKey,
        JWT_PUBLIC_KEY: keys.publicKey,
      },
      gatewayPort: await freePort(),
      metricsBasePort: await freePortRange(ALL_SERVICES.length),
      dataDir: data.dir,
      logDir: process.env.TEST_LOG_DIR ?? data.dir,
    });
    await cluster.start();
    api = new Api(cluster.gatewayUrl);
    bus = await JetStreamBus.connect(NATS_URL, `${namespace}-test`, namespace);
  });

  after(async () => {
    await bus?.close();
    await cluster?.stop();
    ferret("stop", ferretDir.dir);
    await removeNamespaceStreams(namespace);
    await ferretDir.remove();
  });

  async function targetGoal(token: string): Promise<Goal> {
    const body = { pattern: "target", title: "Count everything", target: 1_000_000, endDate: "2099-12-31" };
    return (await api.post<Goal>("/goals", body, { token })).body;
  }

  /** A client that retries with the same Idempotency-Key until it gets a 2xx, as a frontend should. */
  async function logWithRetries(token: string, goalId: string, key: string, quantity: number): Promise<void> {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      try {
        const response = await api.post(
          `/goals/${goalId}/activities`,
          { quantity },
          { token, headers: { "idempotency-key": key } },
        );
        if (response.status === 201) return;
      } catch {
        // connection refused while the gateway restarts: retry
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
    throw new Error(`log ${key} never succeeded`);
  }

  it("loses and duplicates nothing when the streak and aggregation consumers are SIGKILLed mid-stream", async () => {
    const user = await registerUser(api);
    const goal = await targetGoal(user.accessToken);
    const total = 60;
    let expectedSum = 0;
    for (let i = 0; i < total; i += 1) {
      if (i === 15) await cluster.stopService("streak", "SIGKILL");
      if (i === 30) await cluster.startService("streak");
      if (i === 35) await cluster.stopService("aggregation", "SIGKILL");
      if (i === 50) await cluster.startService("aggregation");
      const quantity = (i % 5) + 1;
      expectedSum += quantity;
      await logWithRetries(user.accessToken, goal.id, `kill-${i}`, quantity);
    }
    const read = async () =>
      (await api.get<Goal>(`/goals/${goal.id}`, { token: user.accessToken })).body.progress?.value ?? -1;
    expect(await eventually(read, (value) => value === expectedSum, 90_000)).to.equal(expectedSum);
    const today = new Date().toISOString().slice(0, 10);
    const stats = async () =>
      (
        await api.get<{ activities: number; quantity: number }[]>(`/stats/daily?from=${today}&to=${today}`, {
          token: user.accessToken,
        })
      ).body[0];
    const day = await eventually(stats, (value) => value?.activities === total, 60_000);
    expect(day).to.include({ activities: total, quantity: expectedSum });
    let stored = 0;
    let cursor: string | null = null;
    do {
      const page: { items: unknown[]; nextCursor: string | null } = (
        await api.get<{ items: unknown[]; nextCursor: string | null }>(
          `/goals/${goal.id}/activities?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
          { token: user.accessToken },
        )
      ).body;
      stored += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    expect(stored).to.equal(total);
    expect(await bus.deadLetterCount()).to.equal(0);
  });

  it("waits out a 30-second database outage: messages that arrive meanwhile are applied once it is back", async () => {
    const user = await registerUser(api);
    const goal = await targetGoal(user.accessToken);
    await logWithRetries(user.accessToken, goal.id, "before-outage", 5);
    const state: GoalState = {
      goalId: goal.id,
      userId: user.user.id,
      version: goal.version,
      status: "active",
      rules: {
        pattern: "target",
        startDate: goal.startDate,
        endDate: goal.endDate,
        weekStart: "monday",
        target: goal.target ?? null,
        timesPerPeriod: null,
        period: null,
        limit: null,
        milestoneCount: null,
        milestonesDone: null,
      },
    };
    const today = new Date().toISOString().slice(0, 10);
    ferret("stop", ferretDir.dir);
    const outageStarted = Date.now();
    for (let i = 0; i < 10; i += 1) {
      const change: ActivityChange = {
        activityId: `outage-${goal.id}-${i}`,
        goalId: goal.id,
        userId: user.user.id,
        version: 1,
        localDate: today,
        quantity: 1,
        deleted: false,
        occurredAt: new Date().toISOString(),
        goal: state,
        today,
      };
      await bus.publish("activity.changed", change);
      // The same message again, as a redelivery after a lost ack would bring it.
      await bus.publish("activity.changed", change, `duplicate-${i}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - outageStarted))));
    ferret("start", ferretDir.dir, ferretPort);
    const read = async () => {
      try {
        return (
          (await api.get<Goal>(`/goals/${goal.id}`, { token: user.accessToken })).body.progress?.value ?? -1
        );
      } catch {
        return -1;
      }
    };
    expect(await eventually(read, (value) => value === 15, 120_000)).to.equal(15);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await read()).to.equal(15);
    expect(await bus.deadLetterCount()).to.equal(0);
  });
});
