import { randomBytes } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { jobDuration, jobItemsProcessed, jobLastSuccess, jobRuns } from "../../shared/ops/metrics.ts";
import type { JobRunDoc } from "./model.ts";

export interface JobDefinition {
  name: string;
  /** Cron expression, in UTC. */
  schedule: string;
  /** The slot an instant falls in: a second scheduled run in the same slot does nothing. */
  slotOf(now: Date): string;
  /** Does the work; returns how many items it processed. Must be idempotent. */
  run(now: Date): Promise<number>;
}

export interface JobResult {
  job: string;
  startedAt: string;
  finishedAt: string;
  processed: number;
}

export const hourSlot = (now: Date) => now.toISOString().slice(0, 13);
export const daySlot = (now: Date) => now.toISOString().slice(0, 10);
export const quarterHourSlot = (now: Date) => {
  const iso = now.toISOString();
  return `${iso.slice(0, 14)}${String(Math.floor(now.getUTCMinutes() / 15) * 15).padStart(2, "0")}`;
};

/**
 * Runs jobs on their cron schedules, once per slot across all replicas (the `job_runs` insert is the
 * lock), records each run, and runs one on demand for admins.
 */
export class Scheduler {
  private readonly runs: Collection<JobRunDoc>;
  private readonly jobs: Map<string, JobDefinition>;
  private readonly tasks: ScheduledTask[] = [];
  private readonly onError: (job: string, error: unknown) => void;

  constructor(
    runs: Collection<JobRunDoc>,
    jobs: JobDefinition[],
    onError: (job: string, error: unknown) => void,
  ) {
    this.runs = runs;
    this.jobs = new Map(jobs.map((job) => [job.name, job]));
    this.onError = onError;
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  /** Starts the cron tasks; the last-success gauges start from job_runs, so a restart does not hide a job. */
  async start(): Promise<void> {
    for (const job of this.jobs.values()) {
      const [last] = await this.runs.find(
        { job: job.name, error: null, finishedAt: { $ne: null } },
        { sort: { finishedAt: -1 }, limit: 1 },
      );
      if (last?.finishedAt) jobLastSuccess.set({ job: job.name }, last.finishedAt.getTime() / 1000);
    }
    for (const job of this.jobs.values()) {
      const task = cron.schedule(
        job.schedule,
        async () => {
          await this.runScheduled(job.name, new Date()).catch((error: unknown) =>
            this.onError(job.name, error),
          );
        },
        { timezone: "UTC", name: job.name, noOverlap: true },
      );
      this.tasks.push(task);
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.splice(0)) await task.stop();
  }

  /** The scheduled path: nothing happens when this slot already ran (here or on another replica). */
  async runScheduled(name: string, now: Date): Promise<JobResult | null> {
    const job = this.jobs.get(name)!;
    return this.execute(job, job.slotOf(now), "schedule", now);
  }

  /** The admin path: always runs (jobs are idempotent, so a repeat changes nothing more). */
  async runNow(name: string, now = new Date()): Promise<JobResult> {
    const job = this.jobs.get(name)!;
    const slot = `manual:${now.toISOString()}:${randomBytes(3).toString("hex")}`;
    return (await this.execute(job, slot, "admin", now))!;
  }

  private async execute(
    job: JobDefinition,
    slot: string,
    trigger: JobRunDoc["trigger"],
    now: Date,
  ): Promise<JobResult | null> {
    const id = `${job.name}:${slot}`;
    const startedAt = new Date();
    try {
      await this.runs.insert({
        _id: id,
        job: job.name,
        slot,
        trigger,
        startedAt,
        finishedAt: null,
        processed: null,
        error: null,
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) {
        jobRuns.inc({ job: job.name, outcome: "skipped" });
        return null;
      }
      throw error;
    }
    const stop = jobDuration.startTimer({ job: job.name });
    try {
      const processed = await job.run(now);
      const finishedAt = new Date();
      await this.runs.updateOne({ _id: id }, { $set: { finishedAt, processed } });
      jobRuns.inc({ job: job.name, outcome: "success" });
      jobItemsProcessed.inc({ job: job.name }, processed);
      jobLastSuccess.set({ job: job.name }, finishedAt.getTime() / 1000);
      return {
        job: job.name,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        processed,
      };
    } catch (error) {
      await this.runs.updateOne(
        { _id: id },
        { $set: { finishedAt: new Date(), error: String(error).slice(0, 1000) } },
      );
      jobRuns.inc({ job: job.name, outcome: "failure" });
      throw error;
    } finally {
      stop();
    }
  }
}
