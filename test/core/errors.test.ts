import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorDocs } from '../../scripts/gen-error-docs.ts';
import { ERROR_CODES, KeelError, toOpenAIError } from '../../src/core/errors.ts';

test('docs/errors.md documents every error code as the code defines it', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(doc, errorDocs(), 'docs/errors.md is stale: run `npm run docs:errors`');
  for (const code of Object.keys(ERROR_CODES))
    assert.ok(doc.includes(`\`${code}\``), `${code} is undocumented`);
});

test('client errors are 4xx and never retried; a KeelError renders in OpenAI’s shape', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    if (spec.type === 'invalid_request_error') {
      assert.ok(
        spec.status >= 400 && spec.status < 500,
        `${code} is a client error with status ${spec.status}`,
      );
      assert.equal(spec.retryable, false, code);
    }
  }
  const err = new KeelError('KEEL_INVALID_REQUEST', 'messages: required', { param: 'messages' });
  assert.deepEqual(toOpenAIError(err), {
    error: {
      message: 'messages: required',
      type: 'invalid_request_error',
      param: 'messages',
      code: 'KEEL_INVALID_REQUEST',
    },
  });
});
