// The pure helpers that fold what a request or an event carries into bounded label values.
import type { Context } from 'koa';

import { eventLabels, eventVocabulary } from '../src/labels/event-labels';
import { ROUTE_PATTERN, foldCallerKind, foldMethod, routePattern } from '../src/labels/http-labels';
import { expect } from './helpers/chai';

describe('foldMethod', () => {
  for (const method of [
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'OPTIONS',
    'CONNECT',
    'TRACE',
    'QUERY',
  ]) {
    it(`keeps ${method}`, () => {
      expect(foldMethod(method)).to.equal(method);
    });
  }

  for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'get', 'X-ANYTHING', '']) {
    it(`folds ${JSON.stringify(method)} to _OTHER`, () => {
      expect(foldMethod(method)).to.equal('_OTHER');
    });
  }
});

describe('foldCallerKind', () => {
  for (const kind of ['user', 'daemon', 'api_key', 'system', 'external_service', 'anonymous']) {
    it(`keeps ${kind}`, () => {
      expect(foldCallerKind(kind)).to.equal(kind);
    });
  }

  for (const absent of [undefined, null, '']) {
    it(`reads ${JSON.stringify(absent) ?? 'undefined'} as anonymous`, () => {
      expect(foldCallerKind(absent)).to.equal('anonymous');
    });
  }

  for (const [name, value] of [
    ['admin', 'admin'],
    ['User (case differs)', 'User'],
    ['42', 42],
    ['{}', {}],
    ['["user"]', ['user']],
    ['true', true],
  ] as const) {
    it(`folds ${name} to other`, () => {
      expect(foldCallerKind(value)).to.equal('other');
    });
  }
});

describe('routePattern', () => {
  it('is the pattern @koa/router matched', () => {
    const ctx = { _matchedRoute: '/api/v1/hosts/:id', path: '/api/v1/hosts/42' };
    expect(routePattern(ctx as unknown as Context)).to.equal('/api/v1/hosts/:id');
  });

  const layer = (path: unknown, methods: string[]) => ({ path, methods });
  const ctx = (method: string, fields: Record<string, unknown>) =>
    ({ method, ...fields }) as unknown as Context;

  it('is the first matched route whose methods include the request method', () => {
    const matched = [
      layer('/api(.*)', []),
      layer('/post/new', ['HEAD', 'GET']),
      layer('/post/:id', ['HEAD', 'GET']),
      layer('/post/:id', ['POST']),
    ];
    // _matchedRoute is what @koa/router 8 leaves: the last matching route, which did not run.
    const fields = { matched, _matchedRoute: '/post/:id' };
    expect(routePattern(ctx('GET', fields))).to.equal('/post/new');
    expect(routePattern(ctx('POST', fields))).to.equal('/post/:id');
    // 405: no route allows DELETE; the first route on the path.
    expect(routePattern(ctx('DELETE', fields))).to.equal('/post/new');
  });

  it("is the exclusive router's own choice, which it names in _matchedRoute", () => {
    const matched = [layer('/post/new', ['GET']), layer('/post/:id', ['GET'])];
    const fields = { matched, _matchedRoute: '/post/:id', router: { exclusive: true } };
    expect(routePattern(ctx('GET', fields))).to.equal('/post/:id');
  });

  it('is the pattern a patched router (think-router) left, when no koa router matched', () => {
    const fields = { [ROUTE_PATTERN]: '/post/:id', _matchedRoute: '/other' };
    expect(routePattern(ctx('GET', fields))).to.equal('/post/:id');
  });

  it('is "unmatched" for a route whose path is a regular expression', () => {
    const matched = [layer(/^\/x/, ['GET']), layer('/x/:id', ['GET'])];
    expect(routePattern(ctx('GET', { matched }))).to.equal('unmatched');
  });

  it('is "unmatched", never the raw path, when no route matched', () => {
    expect(routePattern({ path: '/wp-admin.php' } as unknown as Context)).to.equal('unmatched');
  });
});

describe('eventLabels', () => {
  const vocabulary = eventVocabulary();

  for (const entityType of ['Host', 'Network', 'Subnet', 'Service', 'DaemonApiKey', 'Topology']) {
    for (const operation of ['created', 'updated', 'deleted', 'discovery_started']) {
      it(`labels entity ${entityType}/${operation} as itself`, () => {
        expect(eventLabels({ kind: 'entity', entityType, operation }, vocabulary)).to.deep.equal({
          entity: entityType,
          operation,
        });
      });
    }
  }

  it('labels auth events entity="auth"', () => {
    expect(eventLabels({ kind: 'auth', operation: 'login_failed' }, vocabulary)).to.deep.equal({
      entity: 'auth',
      operation: 'login_failed',
    });
    expect(
      eventLabels({ kind: 'auth', operation: 'api_key_auth_failed', userId: 'u' }, vocabulary),
    ).to.deep.equal({ entity: 'auth', operation: 'api_key_auth_failed' });
  });

  it('labels telemetry events entity="telemetry"', () => {
    expect(eventLabels({ kind: 'telemetry', operation: 'org_created' }, vocabulary)).to.deep.equal({
      entity: 'telemetry',
      operation: 'org_created',
    });
  });

  it('ignores an entityType on auth and telemetry events', () => {
    expect(
      eventLabels({ kind: 'auth', entityType: 'Host', operation: 'logged_out' }, vocabulary),
    ).to.deep.equal({ entity: 'auth', operation: 'logged_out' });
  });

  it('counts a well-formed entity type outside the vocabulary as itself (learned)', () => {
    expect(
      eventLabels({ kind: 'entity', entityType: 'Widget', operation: 'created' }, vocabulary),
    ).to.deep.equal({ entity: 'Widget', operation: 'created' });
  });

  it('folds an entity type that is no well-formed identifier to other', () => {
    expect(
      eventLabels(
        { kind: 'entity', entityType: '/api/v1/hosts/42', operation: 'created' },
        vocabulary,
      ),
    ).to.deep.equal({ entity: 'other', operation: 'created', folded: 'entity' });
  });

  it('folds an operation that is no well-formed identifier to other', () => {
    expect(eventLabels({ kind: 'auth', operation: 'hack!' }, vocabulary)).to.deep.equal({
      entity: 'auth',
      operation: 'other',
      folded: 'operation',
    });
    expect(
      eventLabels({ kind: 'entity', entityType: 'Host', operation: 'was created' }, vocabulary),
    ).to.deep.equal({ entity: 'Host', operation: 'other', folded: 'operation' });
  });

  it('counts a well-formed operation of another kind as itself (learned)', () => {
    expect(
      eventLabels({ kind: 'entity', entityType: 'Host', operation: 'login_success' }, vocabulary),
    ).to.deep.equal({ entity: 'Host', operation: 'login_success' });
    expect(eventLabels({ kind: 'telemetry', operation: 'created' }, vocabulary)).to.deep.equal({
      entity: 'telemetry',
      operation: 'created',
    });
  });

  it('reports the entity fold when both labels fold', () => {
    expect(
      eventLabels({ kind: 'entity', entityType: 'Wid get', operation: 'ex-ploded' }, vocabulary),
    ).to.deep.equal({ entity: 'other', operation: 'other', folded: 'entity' });
  });

  const malformed: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'Host created'],
    ['a number', 7],
    ['an array', [{ kind: 'auth', operation: 'login_success' }]],
    ['an object without kind', { operation: 'created', entityType: 'Host' }],
    ['an unknown kind', { kind: 'billing', operation: 'created' }],
    ['an event without operation', { kind: 'auth' }],
    ['a non-string operation', { kind: 'auth', operation: 42 }],
    ['an entity event without entityType', { kind: 'entity', operation: 'created' }],
    ['a non-string entityType', { kind: 'entity', entityType: {}, operation: 'created' }],
  ];
  for (const [name, event] of malformed) {
    it(`labels ${name} unknown/unknown`, () => {
      expect(eventLabels(event, vocabulary)).to.deep.equal({
        entity: 'unknown',
        operation: 'unknown',
        folded: 'malformed',
      });
    });
  }

  it('counts entities and operations added to the vocabulary as themselves', () => {
    const extended = eventVocabulary({ entities: ['Widget'], operations: ['archived'] });
    expect(
      eventLabels({ kind: 'entity', entityType: 'Widget', operation: 'archived' }, extended),
    ).to.deep.equal({ entity: 'Widget', operation: 'archived' });
    // With learning off, only the vocabulary counts as itself.
    const fixed = eventVocabulary({ maxNewEntities: 0, maxNewOperations: 0 });
    expect(
      eventLabels({ kind: 'entity', entityType: 'Widget', operation: 'archived' }, fixed),
    ).to.deep.equal({ entity: 'other', operation: 'other' });
  });
});
