// Cuts long work on snapshots into short stretches, with a turn of the event loop between them.

/** How many series are handled between two looks at the clock. */
const CHECK_EVERY = 64;

/**
 * The longest stretch of a gather's work, in ms: short enough that a stretch, a garbage
 * collection that falls in it and the decoding of the parts that arrived meanwhile stay well
 * under 20 ms; a turn of the loop between stretches costs little when the loop is idle.
 */
export const SLICE_MS = 2;

/**
 * Cuts the work of a gather (summing, updating the total) into stretches of at most `ms`, so that
 * a cluster scrape of tens of thousands of series never holds a process's event loop for long.
 * `longest` is the longest stretch seen, for the benchmark.
 */
export class Slicer {
  private start = performance.now();
  private startCpu = 0;
  private sinceCheck = 0;
  /** The longest stretch seen, in milliseconds of wall time. */
  longest = 0;
  /** The same in milliseconds of this process's CPU time, when `measureCpu` (the benchmark). */
  longestCpu = 0;

  constructor(
    private readonly ms = SLICE_MS,
    private readonly measureCpu = false,
  ) {
    if (measureCpu) this.startCpu = cpuMs();
  }

  /** Whether the current stretch is over; looks at the clock every CHECK_EVERY series. */
  due(): boolean {
    if (++this.sinceCheck < CHECK_EVERY) return false;
    this.sinceCheck = 0;
    return performance.now() - this.start > this.ms;
  }

  /** Ends the current stretch: one turn of the event loop, then a new stretch. */
  async next(): Promise<void> {
    this.note();
    await yieldTurn();
    this.restart();
  }

  /** Records the stretch under way (call it at the end of the work). */
  note(): void {
    const stretch = performance.now() - this.start;
    if (stretch > this.longest) this.longest = stretch;
    if (this.measureCpu) this.longestCpu = Math.max(this.longestCpu, cpuMs() - this.startCpu);
  }

  private restart(): void {
    this.start = performance.now();
    if (this.measureCpu) this.startCpu = cpuMs();
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** One turn of the event loop (I/O included), as the serializer's slices take. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
