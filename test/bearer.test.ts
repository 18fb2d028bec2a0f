// Reading the bearer credential, and the token set the metrics route compares it with.
import { inspect } from 'node:util';

import { TokenSet, bearerCredential } from '../src/auth/bearer';
import { expect } from './helpers/chai';

describe('bearerCredential', () => {
  const accepted: [string, string][] = [
    ['Bearer abc123', 'abc123'],
    ['bearer abc123', 'abc123'],
    ['BEARER abc123', 'abc123'],
    ['bEaReR abc123', 'abc123'],
    ['Bearer    abc123', 'abc123'],
    ['Bearer a.b-c_d~e+f/g=', 'a.b-c_d~e+f/g='],
  ];
  for (const [header, token] of accepted) {
    it(`reads ${JSON.stringify(header)} as ${JSON.stringify(token)}`, () => {
      expect(bearerCredential(header)).to.equal(token);
    });
  }

  const refused: [string, string | undefined][] = [
    ['no header', undefined],
    ['an empty header', ''],
    ['Bearer with no token', 'Bearer'],
    ['Bearer and a space', 'Bearer '],
    ['Bearer and spaces', 'Bearer    '],
    ['Basic', 'Basic xyz'],
    ['Bearer with two tokens', 'Bearer a b'],
    ['a scheme glued to the token', 'Bearerabc'],
    ['a leading space', ' Bearer abc'],
    ['a tab instead of a space', 'Bearer\tabc'],
    ['Token scheme', 'Token abc'],
  ];
  for (const [name, header] of refused) {
    it(`finds no credential in ${name}`, () => {
      expect(bearerCredential(header)).to.equal(undefined);
    });
  }
});

describe('TokenSet', () => {
  it('matches its token', () => {
    const tokens = new TokenSet(['s3cret']);
    expect(tokens.enabled).to.equal(true);
    expect(tokens.size).to.equal(1);
    expect(tokens.matches('s3cret')).to.equal(true);
  });

  it('refuses a wrong token of the same length', () => {
    expect(new TokenSet(['s3cret']).matches('s3creT')).to.equal(false);
  });

  it('refuses a wrong token of another length, prefixes and extensions included', () => {
    const tokens = new TokenSet(['s3cret']);
    expect(tokens.matches('s3cre')).to.equal(false);
    expect(tokens.matches('s3cret ')).to.equal(false);
    expect(tokens.matches('s3cretX')).to.equal(false);
    expect(tokens.matches('')).to.equal(false);
  });

  it('is disabled with no token', () => {
    const tokens = new TokenSet();
    expect(tokens.enabled).to.equal(false);
    expect(tokens.size).to.equal(0);
    expect(tokens.matches('')).to.equal(false);
  });

  it('ignores empty strings, so only empty strings mean disabled', () => {
    const empty = new TokenSet(['', '']);
    expect(empty.enabled).to.equal(false);
    expect(empty.size).to.equal(0);
    expect(empty.matches('')).to.equal(false);

    const one = new TokenSet(['', 'abc']);
    expect(one.size).to.equal(1);
    expect(one.matches('abc')).to.equal(true);
    expect(one.matches('')).to.equal(false);
  });

  it('accepts any of several tokens and nothing else', () => {
    const tokens = new TokenSet(['old-token', 'new-token-longer']);
    expect(tokens.size).to.equal(2);
    expect(tokens.matches('old-token')).to.equal(true);
    expect(tokens.matches('new-token-longer')).to.equal(true);
    expect(tokens.matches('old-token-longer')).to.equal(false);
    expect(tokens.matches('new-token')).to.equal(false);
  });

  it('does not keep the tokens themselves', () => {
    const tokens = new TokenSet(['visible-if-kept']);
    expect(inspect(tokens, { depth: 5, showHidden: true })).to.not.contain('visible-if-kept');
    expect(JSON.stringify(tokens)).to.not.contain('visible-if-kept');
  });
});
