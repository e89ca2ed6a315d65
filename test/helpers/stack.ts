import { generateKeyPair } from "../../shared/auth/keys.ts";
import { Api } from "./api.ts";
import { ALL_SERVICES, loadConfig, type ServiceName } from "../../shared/config.ts";
import { startSystem } from "../../shared/runtime.ts";
import { Cluster } from "../../scripts/cluster-lib.ts";
import { freePort, freePortRange } from "../../scripts/ports.ts";
import { distributedEnv, removeNamespaceStreams, STACK, tempDir, uniqueName } from "./environment.ts";

export interface Stack {
  kind: typeof STACK;
  /** http://127.0.0.1:<port>/api/v1 */
  baseUrl: string;
  /** Takes one service away (as a crash or an outage would) while the rest keeps running. */
  stopService(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/** Settings every test system shares; a suite adds its own (a low rate limit, say). */
const TEST_ENV = { LOG_LEVEL: "warn", ADMIN_EMAILS: "admin@example.test", NODE_ENV: "test" };

async function startEmbedded(env: Record<string, string>): Promise<Stack> {
  const data = await tempDir();
  const config = loadConfig({ ...TEST_ENV, ...env, DATA_DIR: data.dir, PORT: "0", METRICS_PORT: "0" });
  const system = await startSystem(config);
  return {
    kind: "embedded",
    baseUrl: `http://127.0.0.1:${system.gatewayPort}/api/v1`,
    async stopService(name) {
      await system.broker.destroyService(system.broker.getLocalService(name));
    },
    async stop() {
      await system.stop();
      await data.remove();
    },
  };
}

async function startDistributed(env: Record<string, string>): Promise<Stack> {
  const namespace = uniqueName("t-");
  const data = await tempDir();
  const keys = generateKeyPair();
  const cluster = new Cluster({
    env: {
      ...TEST_ENV,
      ...distributedEnv(namespace),
      JWT_PRIVATE_KEY: keys.privateKey,
      JWT_PUBLIC_KEY: keys.publicKey,
      ...env,
    },
    gatewayPort: await freePort(),
    metricsBasePort: await freePortRange(ALL_SERVICES.length),
    dataDir: data.dir,
    logDir: process.env.TEST_LOG_DIR ?? data.dir,
  });
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return {
    kind: "distributed",
    baseUrl: cluster.gatewayUrl,
    stopService: (name) => cluster.stopService(name, "SIGKILL"),
    async stop() {
      await cluster.stop();
      await removeNamespaceStreams(namespace);
      await data.remove();
    },
  };
}

/** The whole system, reachable over HTTP, on the stack this run is for. */
export function startStack(env: Record<string, string> = {}): Promise<Stack> {
  return STACK === "distributed" ? startDistributed(env) : startEmbedded(env);
}

export interface StackUnderTest {
  readonly stack: Stack;
  readonly api: Api;
}

/** Starts a system before the enclosing suite and stops it after; the suite reads `.api` and `.stack`. */
export function useStack(env: Record<string, string> = {}): StackUnderTest {
  const context = {} as { stack: Stack; api: Api };
  before(async function () {
    this.timeout(60_000);
    context.stack = await startStack(env);
    context.api = new Api(context.stack.baseUrl);
  });
  after(async () => context.stack?.stop());
  return context;
}
