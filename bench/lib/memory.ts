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

/** Samples every `intervalMs` and keeps each process's highest reading (by name: a restart keeps its name). */
export class RssWatch {
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly list: () => WatchedProcess[];

  constructor(list: () => WatchedProcess[], intervalMs = 500) {
    this.list = list;
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  async sample(): Promise<void> {
    for (const { name, pid } of this.list()) {
      const value = await rssMiB(pid);
      if (value !== null && value > (this.peaks.get(name) ?? 0)) this.peaks.set(name, value);
    }
  }

  /** Peak MiB by process name. */
  async stop(): Promise<Record<string, number>> {
    clearInterval(this.timer);
    await this.sample();
    return Object.fromEntries(this.peaks);
  }
}
