// Content negotiation of the metrics route, against the headers real scrapers send (captured from
// Prometheus 2.42, Prometheus 3.x and VictoriaMetrics) and the odd ones clients send.
import fc from 'fast-check';

import { negotiateEncoding, negotiateFormat } from '../src/exposition/negotiate';
import { expect } from './helpers/chai';

const PROMETHEUS_2 =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_3 =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const VICTORIA_METRICS = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

const TEXT_0_0_4 = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_1 = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

describe('negotiateFormat', () => {
  it('gives Prometheus 2.42 OpenMetrics 1.0.0 with legacy names', () => {
    expect(negotiateFormat(PROMETHEUS_2)).to.deep.equal({
      syntax: 'openmetrics',
      escaping: 'underscores',
      contentType: OPENMETRICS_1,
    });
  });

  it('gives Prometheus 3 OpenMetrics 1.0.0 with UTF-8 names, saying so', () => {
    expect(negotiateFormat(PROMETHEUS_3)).to.deep.equal({
      syntax: 'openmetrics',
      escaping: 'allow-utf-8',
      contentType: `${OPENMETRICS_1}; escaping=allow-utf-8`,
    });
  });

  it('gives VictoriaMetrics, curl, browsers and scrapers that send nothing the text format 0.0.4', () => {
    for (const accept of [
      VICTORIA_METRICS,
      undefined,
      '',
      '*/*',
      'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'text/plain',
      'text/*',
    ]) {
      expect(negotiateFormat(accept), String(accept)).to.deep.equal({
        syntax: 'prometheus',
        escaping: 'underscores',
        contentType: TEXT_0_0_4,
      });
    }
  });

  it('follows q-values, not the order of the header', () => {
    const format = negotiateFormat(
      'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.2',
    );
    expect(format.contentType).to.equal(TEXT_0_0_4);
    const om = negotiateFormat(
      'text/plain;version=0.0.4;q=0.2, application/openmetrics-text; version=1.0.0; q=0.9',
    );
    expect(om.contentType).to.equal(OPENMETRICS_1);
  });

  it('answers OpenMetrics without a version as 0.0.1, as expfmt does', () => {
    expect(negotiateFormat('application/openmetrics-text')).to.deep.equal({
      syntax: 'openmetrics',
      escaping: 'underscores',
      contentType: 'application/openmetrics-text; version=0.0.1; charset=utf-8',
    });
  });

  it('writes text 1.0.0 with quoted UTF-8 names where asked, and 0.0.4 with legacy names otherwise', () => {
    expect(negotiateFormat('text/plain;version=1.0.0;escaping=allow-utf-8')).to.deep.equal({
      syntax: 'prometheus',
      escaping: 'allow-utf-8',
      contentType: 'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    });
    // 0.0.4 cannot quote names: the legacy names, and the content type of today.
    expect(negotiateFormat('text/plain;version=0.0.4;escaping=allow-utf-8')).to.deep.equal({
      syntax: 'prometheus',
      escaping: 'underscores',
      contentType: TEXT_0_0_4,
    });
    expect(negotiateFormat('text/plain;version=0.0.4;escaping=dots')).to.deep.equal({
      syntax: 'prometheus',
      escaping: 'dots',
      contentType: `${TEXT_0_0_4}; escaping=dots`,
    });
    // An unknown escaping scheme is ignored.
    expect(
      negotiateFormat('application/openmetrics-text;version=1.0.0;escaping=rot13'),
    ).to.deep.equal({
      syntax: 'openmetrics',
      escaping: 'underscores',
      contentType: OPENMETRICS_1,
    });
  });

  it('skips what it cannot write (protobuf, unknown versions, q=0) and falls back to the text format', () => {
    expect(
      negotiateFormat(
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8',
      ).contentType,
    ).to.equal(OPENMETRICS_1);
    expect(negotiateFormat('application/openmetrics-text;version=2.0.0').contentType).to.equal(
      TEXT_0_0_4,
    );
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0').contentType).to.equal(
      TEXT_0_0_4,
    );
    expect(negotiateFormat('application/json').contentType).to.equal(TEXT_0_0_4);
  });

  it('never throws and always answers a format it writes, whatever the header', () => {
    const piece = fc.constantFrom(
      'application/openmetrics-text',
      'text/plain',
      '*/*',
      ';',
      ',',
      '=',
      'version=1.0.0',
      'version=0.0.4',
      'q=0.5',
      'q=abc',
      'escaping=allow-utf-8',
      '"',
      ' ',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(piece).map((p) => p.join('')),
        ),
        (accept) => {
          const format = negotiateFormat(accept);
          expect(['prometheus', 'openmetrics']).to.include(format.syntax);
          expect(format.contentType).to.match(
            /^(text\/plain|application\/openmetrics-text); version=/,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('negotiateEncoding', () => {
  const offered = ['zstd', 'gzip', 'identity'] as const;

  it("gzips for Prometheus's and VictoriaMetrics's `Accept-Encoding: gzip`", () => {
    expect(negotiateEncoding('gzip', offered)).to.equal('gzip');
  });

  it('sends identity without a header, for codings it does not write, and when told q=0', () => {
    expect(negotiateEncoding(undefined, offered)).to.equal('identity');
    expect(negotiateEncoding('br, deflate', offered)).to.equal('identity');
    expect(negotiateEncoding('gzip;q=0', offered)).to.equal('identity');
    expect(negotiateEncoding('identity;q=0', ['gzip', 'identity'])).to.equal('identity');
  });

  it('follows q-values, and prefers zstd among equals where Node writes it', () => {
    expect(negotiateEncoding('gzip;q=1, zstd;q=0.5', offered)).to.equal('gzip');
    expect(negotiateEncoding('gzip, zstd', offered)).to.equal('zstd');
    expect(negotiateEncoding('gzip, zstd', ['gzip', 'identity'])).to.equal('gzip');
    expect(negotiateEncoding('*', ['gzip', 'identity'])).to.equal('gzip');
    expect(negotiateEncoding('X-GZIP', ['gzip', 'identity'])).to.equal('gzip');
  });
});
