// The formats the exposition is written in, and what each says it is.
import type { EscapingScheme } from './names';

/**
 * What a scrape is written as. `syntax` and `escaping` decide the bytes (scrapes that agree on
 * both share one serialization); `contentType` is what the answer says it is.
 */
export interface ExpositionFormat {
  /** `prometheus`: the text format (0.0.4, or 1.0.0 for UTF-8 names); `openmetrics`: OpenMetrics. */
  readonly syntax: 'prometheus' | 'openmetrics';
  readonly escaping: EscapingScheme;
  readonly contentType: string;
}

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The text format as it always was: what a scraper that asks for nothing in particular gets. */
export const PROMETHEUS_TEXT: ExpositionFormat = Object.freeze({
  syntax: 'prometheus',
  escaping: 'underscores',
  contentType: PROMETHEUS_TEXT_CONTENT_TYPE,
});

export const OPENMETRICS_TEXT: ExpositionFormat = Object.freeze({
  syntax: 'openmetrics',
  escaping: 'underscores',
  contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
});

/** The key of the bytes a format produces: formats with the same key share a serialization. */
export function formatKey(format: ExpositionFormat): string {
  return `${format.syntax}/${format.escaping}`;
}
