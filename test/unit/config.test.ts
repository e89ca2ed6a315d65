import { expect } from "chai";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { ALL_SERVICES, ConfigError, loadConfig } from "../../shared/config.ts";

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not throw one). */
function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail(`loadConfig(${JSON.stringify(env)}) should have thrown a ConfigError`);
}

describe("configuration (shared/config.ts)", () => {
  describe("with an empty environment, every variable takes the contract's default", () => {
    const config = loadConfig({});

    it("serves the gateway on PORT 3000", () => {
      expect(config.port).to.equal(3000);
    });

    it("keeps embedded data in ./data", () => {
      expect(config.dataDir).to.equal("./data");
    });

    it("runs in-process: no transporter, in-memory channels, embedded NeDB", () => {
      expect(config.transporter).to.equal(null);
      expect(config.channelsUrl).to.equal(null);
      expect(config.mongoUrl).to.equal(null);
    });

    it("allows 100 active goals per user", () => {
      expect(config.maxActiveGoals).to.equal(100);
    });

    it("limits to 1200 requests per minute", () => {
      expect(config.rateLimitPerMinute).to.equal(1200);
    });

    it("serves metrics on port 9100", () => {
      expect(config.metricsPort).to.equal(9100);
    });

    it("allows every CORS origin outside production", () => {
      expect(config.corsOrigins).to.equal("*");
    });

    it("logs at info level", () => {
      expect(config.logLevel).to.equal("info");
    });

    it("refuses private webhook addresses", () => {
      expect(config.webhookAllowPrivate).to.equal(false);
    });

    it("runs every service", () => {
      expect(config.services).to.deep.equal([...ALL_SERVICES]);
    });

    it("has no admins, no SMTP server and no JWT keys (they are generated in embedded mode)", () => {
      expect(config.adminEmails).to.deep.equal([]);
      expect(config.smtpUrl).to.equal(null);
      expect(config.jwtPrivateKey).to.equal(null);
      expect(config.jwtPublicKey).to.equal(null);
    });

    it("is a development configuration", () => {
      expect(config.nodeEnv).to.equal("development");
    });
  });

  describe("reads the variables it is given", () => {
    it("parses numbers, URLs, booleans and lists", () => {
      const config = loadConfig({
        PORT: "8080",
        DATA_DIR: "/var/lib/goals",
        TRANSPORTER: "nats://127.0.0.1:4222",
        CHANNELS_URL: "nats://127.0.0.1:4222",
        MONGO_URL: "mongodb://mongo:27017/goals",
        SERVICES: "gateway,auth",
        MAX_ACTIVE_GOALS: "5",
        RATE_LIMIT_PER_MINUTE: "0",
        SMTP_URL: "smtp://user:pass@mail:587",
        WEBHOOK_ALLOW_PRIVATE: "true",
        CORS_ORIGINS: "https://a.example, https://b.example",
        METRICS_PORT: "9200",
        LOG_LEVEL: "debug",
      });
      expect(config).to.include({
        port: 8080,
        dataDir: "/var/lib/goals",
        transporter: "nats://127.0.0.1:4222",
        channelsUrl: "nats://127.0.0.1:4222",
        mongoUrl: "mongodb://mongo:27017/goals",
        maxActiveGoals: 5,
        rateLimitPerMinute: 0,
        smtpUrl: "smtp://user:pass@mail:587",
        webhookAllowPrivate: true,
        metricsPort: 9200,
        logLevel: "debug",
      });
      expect(config.services).to.deep.equal(["gateway", "auth"]);
      expect(config.corsOrigins).to.deep.equal(["https://a.example", "https://b.example"]);
    });

    it("accepts SERVICES=all as every service", () => {
      expect(loadConfig({ SERVICES: "all" }).services).to.deep.equal([...ALL_SERVICES]);
    });

    it("lower-cases and splits ADMIN_EMAILS, ignoring blanks around commas", () => {
      const config = loadConfig({ ADMIN_EMAILS: " Boss@Example.COM, ,ops@example.com ," });
      expect(config.adminEmails).to.deep.equal(["boss@example.com", "ops@example.com"]);
    });

    it("counts an empty string as unset, so the default applies", () => {
      const config = loadConfig({
        PORT: "",
        DATA_DIR: "",
        TRANSPORTER: "",
        SERVICES: "",
        LOG_LEVEL: "",
        METRICS_PORT: "",
        CORS_ORIGINS: "",
        NODE_ENV: "",
      });
      expect(config.port).to.equal(3000);
      expect(config.dataDir).to.equal("./data");
      expect(config.transporter).to.equal(null);
      expect(config.services).to.deep.equal([...ALL_SERVICES]);
      expect(config.logLevel).to.equal("info");
      expect(config.metricsPort).to.equal(9100);
      expect(config.corsOrigins).to.equal("*");
      expect(config.nodeEnv).to.equal("development");
    });

    it("ignores variables it does not know", () => {
      expect(() => loadConfig({ HOME: "/root", SOMETHING_ELSE: "x" })).not.to.throw();
    });
  });

  describe("a malformed variable stops the start with an error naming it", () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["PORT", { PORT: "abc" }],
      ["PORT", { PORT: "-1" }],
      ["PORT", { PORT: "70000" }],
      ["METRICS_PORT", { METRICS_PORT: "70000" }],
      ["TRANSPORTER", { TRANSPORTER: "http://x" }],
      ["CHANNELS_URL", { CHANNELS_URL: "redis://x" }],
      ["MONGO_URL", { MONGO_URL: "postgres://db/goals" }],
      ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
      ["SERVICES", { SERVICES: "unknown" }],
      ["SERVICES", { SERVICES: "auth,unknown" }],
      ["SERVICES", { SERVICES: "Auth; gateway" }],
      ["NODE_ENV", { NODE_ENV: "staging" }],
      ["MAX_ACTIVE_GOALS", { MAX_ACTIVE_GOALS: "lots" }],
      ["RATE_LIMIT_PER_MINUTE", { RATE_LIMIT_PER_MINUTE: "1.5" }],
      ["WEBHOOK_ALLOW_PRIVATE", { WEBHOOK_ALLOW_PRIVATE: "yes" }],
      ["SMTP_URL", { SMTP_URL: "mail.example.com" }],
      ["JWT_PUBLIC_KEY", { JWT_PUBLIC_KEY: "not a pem" }],
    ];
    for (const [variable, env] of cases) {
      it(`${JSON.stringify(env)} → ConfigError naming ${variable}`, () => {
        const error = configErrorOf(env);
        expect(error.variable).to.equal(variable);
        expect(error.message).to.contain(variable);
        expect(error.message.split("\n")).to.have.length(1);
      });
    }

    it("names the bad variable even when good ones come with it", () => {
      const error = configErrorOf({ PORT: "3000", LOG_LEVEL: "verbose", DATA_DIR: "/tmp" });
      expect(error.variable).to.equal("LOG_LEVEL");
    });
  });

  describe("production never runs with a default secret", () => {
    const keys = generateKeyPair();

    it("requires JWT_PRIVATE_KEY when the process runs the auth service", () => {
      const error = configErrorOf({ NODE_ENV: "production", JWT_PUBLIC_KEY: keys.publicKey });
      expect(error.variable).to.equal("JWT_PRIVATE_KEY");
      expect(error.message).to.contain("JWT_PRIVATE_KEY");
    });

    it("requires JWT_PUBLIC_KEY", () => {
      const error = configErrorOf({ NODE_ENV: "production", JWT_PRIVATE_KEY: keys.privateKey });
      expect(error.variable).to.equal("JWT_PUBLIC_KEY");
      expect(error.message).to.contain("JWT_PUBLIC_KEY");
    });

    it("requires a key even when it is set to an empty string", () => {
      const error = configErrorOf({
        NODE_ENV: "production",
        JWT_PRIVATE_KEY: "",
        JWT_PUBLIC_KEY: keys.publicKey,
      });
      expect(error.variable).to.equal("JWT_PRIVATE_KEY");
    });

    it("needs only the public key in a process that only verifies tokens", () => {
      const config = loadConfig({
        NODE_ENV: "production",
        SERVICES: "gateway",
        JWT_PUBLIC_KEY: keys.publicKey,
      });
      expect(config.jwtPrivateKey).to.equal(null);
      expect(config.jwtPublicKey).to.equal(keys.publicKey);
    });

    it("starts with both keys, and allows no CORS origin unless CORS_ORIGINS lists some", () => {
      const env = {
        NODE_ENV: "production",
        JWT_PRIVATE_KEY: keys.privateKey,
        JWT_PUBLIC_KEY: keys.publicKey,
      };
      const config = loadConfig(env);
      expect(config.nodeEnv).to.equal("production");
      expect(config.jwtPrivateKey).to.equal(keys.privateKey);
      expect(config.corsOrigins).to.deep.equal([]);
      expect(loadConfig({ ...env, CORS_ORIGINS: "https://app.example" }).corsOrigins).to.deep.equal([
        "https://app.example",
      ]);
    });
  });
});
