import { ConfigError, loadConfig } from "./shared/config.ts";
import { startSystem } from "./shared/runtime.ts";

const REQUIRED_NODE_MAJOR = 24;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

if (Number(process.versions.node.split(".")[0]) < REQUIRED_NODE_MAJOR) {
  fail(
    `Node ${REQUIRED_NODE_MAJOR} is required (this is ${process.version}): run through npm (npm start) to use the project's Node`,
  );
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

const system = await startSystem(config).catch((error: unknown) => fail(`Start failed: ${String(error)}`));

let signals = 0;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(1);
    system.broker.logger.info(`${signal} received: draining, then stopping`);
    system.stop().then(
      () => process.exit(0),
      (error: unknown) => fail(`Stop failed: ${String(error)}`),
    );
  });
}

if (system.gatewayPort !== null) {
  system.broker.logger.info(
    `Gateway listening on http://localhost:${system.gatewayPort}/api/v1 (docs at /api/v1/docs)`,
  );
}
