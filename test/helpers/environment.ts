import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connect } from "nats";

/**
 * Which stack the service and e2e suites run on. `npm test`: embedded (in-process, NeDB, memory bus).
 * `npm run test:integration` sets STACK=distributed with NATS JetStream and FerretDB.
 */
export const STACK: "embedded" | "distributed" =
  process.env.STACK === "distributed" ? "distributed" : "embedded";
export const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export function mongoBaseUrl(): string {
  const url = process.env.TEST_MONGO_URL;
  if (!url) throw new Error("STACK=distributed needs TEST_MONGO_URL (npm run test:integration sets it)");
  return url.endsWith("/") ? url : `${url}/`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

export async function tempDir(
  prefix = "goal-tracker-test-",
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** What a distributed test system needs of its own: a namespace on the shared NATS and a database. */
export function distributedEnv(namespace: string): Record<string, string> {
  return {
    TRANSPORTER: NATS_URL,
    CHANNELS_URL: NATS_URL,
    MONGO_URL: `${mongoBaseUrl()}${namespace.replace(/-/g, "_")}`,
    NAMESPACE: namespace,
  };
}

/** Streams are per namespace: a finished test system removes its own from the shared NATS. */
export async function removeNamespaceStreams(namespace: string): Promise<void> {
  const connection = await connect({ servers: NATS_URL });
  try {
    const jsm = await connection.jetstreamManager();
    const token = namespace.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
    for (const stream of [`${token}_EVENTS`, `${token}_DEAD_LETTERS`]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}
