/** Resident memory of processes while the load runs, read from /proc (Linux). */
import { readFile } from "node:fs/promises";

export interface WatchedProcess {
  name: string;
  pid: number;
}

/** VmRSS in MiB, or null once the process is gone. */
export async function rssMiB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? null : Math.round((Number(kib) / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

/**
 * Samples every `intervalMs` and keeps each process's highest reading (by name: a restart keeps its name),
 * overall and per phase (the kind of load running: a closed loop lets V8 grow its heap far more than a
 * fixed rate does, so the two are reported apart).
 */
export class RssWatch {
  private readonly peaks = new Map<string, number>();
  private readonly phasePeaks = new Map<string, Map<string, number>>();
  /** The phase the next samples belong to; null between loads. */
  phase: string | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly list: () => WatchedProcess[];

  constructor(list: () => WatchedProcess[], intervalMs = 500) {
    this.list = list;
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  async sample(): Promise<void> {
    for (const { name, pid } of this.list()) {
      const value = await rssMiB(pid);
      if (value === null) continue;
      if (value > (this.peaks.get(name) ?? 0)) this.peaks.set(name, value);
      if (this.phase === null) continue;
      const peaks = this.phasePeaks.get(this.phase) ?? new Map<string, number>();
      this.phasePeaks.set(this.phase, peaks);
      if (value > (peaks.get(name) ?? 0)) peaks.set(name, value);
    }
  }

  /** Peak MiB by process name. */
  async stop(): Promise<Record<string, number>> {
    clearInterval(this.timer);
    await this.sample();
    return Object.fromEntries(this.peaks);
  }

  /** Peak MiB by phase, then by process name. */
  byPhase(): Record<string, Record<string, number>> {
    return Object.fromEntries(
      [...this.phasePeaks].map(([phase, peaks]) => [phase, Object.fromEntries(peaks)]),
    );
  }
}
