// Numbers as OpenMetrics writes them: canonical floats and timestamps in seconds.
import type { HrTime } from '@opentelemetry/api';

/**
 * A float as Go's strconv.FormatFloat(f, 'g', -1, 64) writes it, with `.0` added to integers:
 * OpenMetrics' canonical form, which its parsers require of `le` labels (`1.0`, `0.005`, `1e+06`).
 */
export function openMetricsFloat(f: number): string {
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (Number.isNaN(f)) return 'NaN';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = f.toExponential().split('e');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const plain = String(f);
  return plain.includes('.') || plain.includes('e') ? plain : `${plain}.0`;
}

/** An OTel time as seconds since the epoch, to the millisecond (`1764622280.123`). */
export function seconds(time: HrTime): string {
  return `${time[0]}.${String(Math.floor(time[1] / 1e6)).padStart(3, '0')}`;
}
