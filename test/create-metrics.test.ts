// createMetrics refuses options no route could serve, naming the option and never a token.
import { createMetrics } from 'scanopy-metrics';

import { expect } from './helpers/chai';

describe('createMetrics options', () => {
  it('refuses a path that is not absolute or carries a query, naming the option', () => {
    for (const path of ['metrics', '/metrics?x=1', '/me trics', '']) {
      expect(() => createMetrics({ path })).to.throw(
        TypeError,
        `createMetrics: path: expected an absolute path such as /metrics, got "${path}"`,
      );
    }
  });

  it('refuses a token no Authorization header could carry, without quoting it', () => {
    expect(() => createMetrics({ token: ['fine', 'not fine'] }))
      .to.throw(TypeError, 'a bearer token must be printable ASCII without white space (RFC 6750)')
      .and.satisfy((error: Error) => !error.message.includes('not fine'));
  });

  it('accepts a custom absolute path', async () => {
    const metrics = createMetrics({ token: 't', path: '/internal/metrics' });
    expect(metrics.path).to.equal('/internal/metrics');
    await metrics.shutdown();
  });
});
