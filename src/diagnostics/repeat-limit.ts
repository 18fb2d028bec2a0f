// The console logger's bound on repeats: a line that recurs (OpenTelemetry's exporter notes at
// every export interval while a receiver is down, an error at every scrape) is written at its 1st,
// 2nd, 4th, 8th… occurrence only, so the lines grow with the logarithm of the occurrences and
// still show that the condition goes on (as Envoy's ENVOY_LOG_EVERY_POW_2 does).
import type { DiagLogger } from '@opentelemetry/api';

/** Distinct lines remembered; past this the least recently seen is forgotten. */
export const MAX_REMEMBERED_LINES = 256;

type Level = keyof DiagLogger;

/** What makes two lines the same: the level and the text, each run of digits as one `#`. */
export function lineShape(level: Level, message: string): string {
  return `${level} ${message.replace(/\d+/g, '#')}`;
}

/** Whether the `count`th occurrence of a line is written: 1, 2, 4, 8… */
export function isWritten(count: number): boolean {
  return Number.isInteger(Math.log2(count));
}

/** The text written for the `count`th occurrence of `message`. */
export function repeatedText(message: string, count: number): string {
  return count === 1
    ? message
    : `${message} (seen ${count} times; a repeated line is written at the 2nd, 4th, 8th… time)`;
}

/** `logger`, with each line's repeats written at powers of two only. */
export class RepeatLimitedLogger implements DiagLogger {
  /** Occurrences of each line shape, least recently seen first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly logger: DiagLogger,
    private readonly remembered = MAX_REMEMBERED_LINES,
  ) {}

  error(message: string, ...args: unknown[]): void {
    this.write('error', message, args);
  }
  warn(message: string, ...args: unknown[]): void {
    this.write('warn', message, args);
  }
  info(message: string, ...args: unknown[]): void {
    this.write('info', message, args);
  }
  debug(message: string, ...args: unknown[]): void {
    this.write('debug', message, args);
  }
  verbose(message: string, ...args: unknown[]): void {
    this.write('verbose', message, args);
  }

  private write(level: Level, message: string, args: unknown[]): void {
    const text = String(message);
    const shape = lineShape(level, text);
    const count = (this.seen.get(shape) ?? 0) + 1;
    // Deleted and set again, so that the map's first key is the least recently seen.
    this.seen.delete(shape);
    if (this.seen.size >= this.remembered) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(shape, count);
    if (isWritten(count)) this.logger[level](repeatedText(text, count), ...args);
  }
}
