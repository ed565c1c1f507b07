/** Version order: the precedence example of Semantic Versioning 2.0.0, section 11, and its rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions } from '../../src/host/packages/plugin-version.js';

test('the example list of SemVer 2.0.0 section 11 is in ascending order', () => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) assert.equal(compareVersions(ordered[i]!, ordered[j]!), Math.sign(i - j), `${ordered[i]} against ${ordered[j]}`);
  }
});

test('numbers compare as numbers, major before minor before patch', () => {
  assert.equal(compareVersions('1.10.0', '1.9.0'), 1);
  assert.equal(compareVersions('2.0.0', '1.99.99'), 1);
  assert.equal(compareVersions('0.1.10', '0.1.9'), 1);
  assert.equal(compareVersions('0.1.0', '0.1.0'), 0);
});
