// src/version.ts is kept in step with package.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { VERSION } from 'scanopy-metrics';

import { PACKAGE_NAME } from '../src/version';
import { expect } from './helpers/chai';

describe('version', () => {
  it('matches package.json name and version', () => {
    // build/test/version.test.js → the package root
    const file = path.resolve(__dirname, '..', '..', 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
    expect(PACKAGE_NAME).to.equal(pkg.name);
    expect(VERSION).to.equal(pkg.version);
  });
});
