/**
 * Notices a database client that stays cut off from a database that a fresh client reaches.
 *
 * Why: in the fault-injection run (`npm run chaos`), after a 30 s database outage one service process in
 * a few kept failing every operation for minutes (server selection reported the error of a pool connection
 * closed by the outage, no heartbeat updated it), while the other processes had recovered within a second.
 * The driver's monitor had stopped; only a new client helps then. An outage of the database itself is not
 * that: while a fresh client cannot reach the database either, the client is left alone.
 */
export interface ClientWatchOptions {
  /** A cheap command through the client in use (a ping with a short timeout). */
  pingClient: () => Promise<void>;
  /** The same through a client made for this probe only. */
  pingFresh: () => Promise<void>;
  /** Replaces the client in use with a new one. */
  rebuild: () => Promise<void>;
  /** How long the client in use must have failed before a fresh client is asked. */
  suspectAfterMs: number;
  now?: () => number;
}

export type WatchOutcome = "ok" | "failing" | "database unreachable" | "rebuilt";

export class ClientWatch {
  private readonly options: ClientWatchOptions;
  private failingSince: number | null = null;

  constructor(options: ClientWatchOptions) {
    this.options = options;
  }

  /** One look: called periodically, never concurrently with itself. */
  async check(): Promise<WatchOutcome> {
    const now = this.options.now ?? Date.now;
    try {
      await this.options.pingClient();
      this.failingSince = null;
      return "ok";
    } catch {
      this.failingSince ??= now();
    }
    if (now() - this.failingSince < this.options.suspectAfterMs) return "failing";
    try {
      await this.options.pingFresh();
    } catch {
      return "database unreachable";
    }
    // The database is back: a client that merely had not noticed yet answers now, and is kept.
    try {
      await this.options.pingClient();
      this.failingSince = null;
      return "ok";
    } catch {
      // still cut off: stuck
    }
    await this.options.rebuild();
    this.failingSince = null;
    return "rebuilt";
  }
}
