// The console logger's bound on repeats (src/diagnostics/repeat-limit.ts): a line is written at its
// 1st, 2nd, 4th, 8th… occurrence, lines that differ only in their digits are one line, and the
// lines remembered are bounded (the least recently seen is forgotten first).
import type { DiagLogger } from '@opentelemetry/api';
import { RepeatLimitedLogger, isWritten, lineShape } from '../src/diagnostics/repeat-limit';
import { expect } from './helpers/chai';

const SUFFIX = 'a repeated line is written at the 2nd, 4th, 8th… time';

/** A logger that keeps what it is given, as `level: message args…`. */
function keeping(): { logger: DiagLogger; lines: string[] } {
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      lines.push([`${level}: ${message}`, ...args.map(String)].join(' '));
  return {
    lines,
    logger: {
      error: keep('error'),
      warn: keep('warn'),
      info: keep('info'),
      debug: keep('debug'),
      verbose: keep('verbose'),
    },
  };
}

describe('the console logger: repeats written at powers of two', () => {
  it('isWritten: 1, 2, 4, 8… and nothing between', () => {
    const written = Array.from({ length: 70 }, (_, i) => i + 1).filter(isWritten);
    expect(written).to.deep.equal([1, 2, 4, 8, 16, 32, 64]);
  });

  it('lineShape: the level and the text with each run of digits as #', () => {
    expect(lineShape('info', 'Export retry time 4786ms exceeds remaining timeout 1272ms')).to.equal(
      'info Export retry time #ms exceeds remaining timeout #ms',
    );
  });

  it('20 occurrences of one line (its numbers varying) write 5 lines, each saying its count', () => {
    const { logger, lines } = keeping();
    const limited = new RepeatLimitedLogger(logger);
    for (let i = 1; i <= 20; i++) limited.info(`retry in ${1000 + i}ms`, 'arg');
    expect(lines).to.deep.equal([
      'info: retry in 1001ms arg',
      `info: retry in 1002ms (seen 2 times; ${SUFFIX}) arg`,
      `info: retry in 1004ms (seen 4 times; ${SUFFIX}) arg`,
      `info: retry in 1008ms (seen 8 times; ${SUFFIX}) arg`,
      `info: retry in 1016ms (seen 16 times; ${SUFFIX}) arg`,
    ]);
  });

  it('each level and each text counts on its own', () => {
    const { logger, lines } = keeping();
    const limited = new RepeatLimitedLogger(logger);
    limited.warn('a');
    limited.error('a');
    limited.warn('b');
    limited.warn('a');
    limited.warn('a');
    expect(lines).to.deep.equal([
      'warn: a',
      'error: a',
      'warn: b',
      `warn: a (seen 2 times; ${SUFFIX})`,
    ]);
  });

  it('remembers a bounded number of lines, forgetting the least recently seen', () => {
    const { logger, lines } = keeping();
    const limited = new RepeatLimitedLogger(logger, 2);
    limited.info('a');
    limited.info('b');
    limited.info('a'); // a is now the most recently seen: b goes when c comes
    limited.info('c');
    limited.info('a'); // a's 3rd: not written
    limited.info('b'); // b was forgotten: a first occurrence again
    expect(lines).to.deep.equal([
      'info: a',
      'info: b',
      `info: a (seen 2 times; ${SUFFIX})`,
      'info: c',
      'info: b',
    ]);
  });
});
