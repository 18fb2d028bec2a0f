// Captures what OTel's diagnostic logger receives (every level), for tests that check what the
// package reports; `restore()` disables the logger again, the state every suite leaves behind.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';

export interface DiagLine {
  level: 'error' | 'warn' | 'info' | 'debug' | 'verbose';
  message: string;
  args: unknown[];
}

export interface DiagCapture {
  lines: DiagLine[];
  /** The lines of one level. */
  at(level: DiagLine['level']): DiagLine[];
  restore(): void;
}

export function captureDiag(): DiagCapture {
  const lines: DiagLine[] = [];
  const logAt =
    (level: DiagLine['level']) =>
    (message: string, ...args: unknown[]): void => {
      lines.push({ level, message, args });
    };
  const logger: DiagLogger = {
    error: logAt('error'),
    warn: logAt('warn'),
    info: logAt('info'),
    debug: logAt('debug'),
    verbose: logAt('verbose'),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return {
    lines,
    at: (level) => lines.filter((line) => line.level === level),
    restore: () => diag.disable(),
  };
}
