import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** One registry per process: every metric of every service in this process is served from it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Latency buckets around the 200 ms SLO, in seconds. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5];

export const httpRequests = new Counter({
  name: "http_requests_total",
  help: "Gateway requests by route template, method and status class",
  labelNames: ["route", "method", "status_class"] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "Gateway request duration by route template and method",
  labelNames: ["route", "method"] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const actionCalls = new Counter({
  name: "moleculer_action_calls_total",
  help: "Local action calls by action and outcome (ok, client_error, server_error)",
  labelNames: ["action", "outcome"] as const,
  registers: [registry],
});

export const actionDuration = new Histogram({
  name: "moleculer_action_duration_seconds",
  help: "Local action duration by action",
  labelNames: ["action"] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const channelPublished = new Counter({
  name: "channel_messages_published_total",
  help: "Messages published on the channel bus",
  labelNames: ["channel"] as const,
  registers: [registry],
});

export const channelProcessed = new Counter({
  name: "channel_messages_processed_total",
  help: "Messages a consumer group handled successfully",
  labelNames: ["channel", "group"] as const,
  registers: [registry],
});

export const channelFailed = new Counter({
  name: "channel_messages_failed_total",
  help: "Handler failures (each is retried with backoff until it dead-letters)",
  labelNames: ["channel", "group"] as const,
  registers: [registry],
});

export const channelDeadLettered = new Counter({
  name: "channel_messages_dead_lettered_total",
  help: "Messages moved to the dead-letter stream after their last attempt",
  labelNames: ["channel", "group"] as const,
  registers: [registry],
});

export const channelPending = new Gauge({
  name: "channel_messages_pending",
  help: "Messages waiting for a consumer group (not yet acknowledged)",
  labelNames: ["channel", "group"] as const,
  registers: [registry],
});

export const usersRegistered = new Counter({
  name: "users_registered_total",
  help: "Accounts created",
  registers: [registry],
});

export const loginAttempts = new Counter({
  name: "auth_login_attempts_total",
  help: "Login attempts by outcome (success, failure, throttled)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export const refreshTokenReuse = new Counter({
  name: "auth_refresh_token_reuse_total",
  help: "Refresh tokens presented again after use: each revoked its whole family",
  registers: [registry],
});

export const rateLimited = new Counter({
  name: "http_rate_limited_total",
  help: "Requests refused with 429 by the gateway's per-user or per-address limit",
  registers: [registry],
});

export const readyCheckUp = new Gauge({
  name: "ready_check_up",
  help: "1 when a readiness check of this process passed at its last run (database, bus, transporter), else 0",
  labelNames: ["check"] as const,
  registers: [registry],
});

export const goalsCreated = new Counter({
  name: "goals_created_total",
  help: "Goals created, by pattern",
  labelNames: ["pattern"] as const,
  registers: [registry],
});

export const activitiesLogged = new Counter({
  name: "activities_logged_total",
  help: "Activities logged (single and bulk), by the goal's pattern",
  labelNames: ["pattern"] as const,
  registers: [registry],
});

export const streakMilestones = new Counter({
  name: "streak_milestones_total",
  help: "Streak milestones reached (each announced once per goal)",
  labelNames: ["milestone"] as const,
  registers: [registry],
});

export const databaseClientRebuilds = new Counter({
  name: "database_client_rebuilds_total",
  help: "Database clients replaced because they stayed cut off from a database a fresh client reached",
  registers: [registry],
});

export const streakDriftRepaired = new Counter({
  name: "streak_drift_repaired_total",
  help: "Goal ledgers whose stored streak differed from a full recomputation and were repaired",
  registers: [registry],
});

export const jobRuns = new Counter({
  name: "job_runs_total",
  help: "Scheduled job runs by outcome (success, failure, skipped: another replica had the slot)",
  labelNames: ["job", "outcome"] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: "job_duration_seconds",
  help: "Scheduled job duration",
  labelNames: ["job"] as const,
  buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
  registers: [registry],
});

export const jobLastSuccess = new Gauge({
  name: "job_last_success_timestamp_seconds",
  help: "When each job last finished successfully (Unix seconds)",
  labelNames: ["job"] as const,
  registers: [registry],
});

export const jobItemsProcessed = new Counter({
  name: "job_items_processed_total",
  help: "Items (users, goals, notifications) processed by scheduled jobs",
  labelNames: ["job"] as const,
  registers: [registry],
});

export const notificationsSent = new Counter({
  name: "notifications_total",
  help: "Notifications by channel (in_app, email, webhook) and status (created, sent, failed, duplicate)",
  labelNames: ["channel", "status"] as const,
  registers: [registry],
});

export const webhookAttempts = new Counter({
  name: "webhook_attempts_total",
  help: "Webhook delivery attempts by outcome (success, failure, timeout, refused)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});
