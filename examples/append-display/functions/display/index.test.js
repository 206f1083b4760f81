// Unit tests of `display`: run with `node --test` (or `npm test`) in this folder.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { handle } = require('./index.js');

class FunctionError extends Error {
  constructor(status, title, detail) {
    super(`${status} ${title}: ${detail}`);
    this.status = status;
  }
}

// A stand-in for the context the platform passes, recording what is logged.
function makeContext() {
  const logged = [];
  const record = (level) => (...args) => logged.push([level, ...args]);
  return {
    executionId: 'test-execution',
    taskReference: '/do/1/display',
    attempt: 1,
    idempotencyKey: 'test-execution/do/1/display/1',
    attributes: {},
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    FunctionError,
    logged,
  };
}

test('returns the message it displayed', async () => {
  const output = await handle({ message: 'hello!' }, makeContext());
  assert.deepStrictEqual(output, { displayed: 'hello!' });
});

test('logs the message through the context logger', async () => {
  const context = makeContext();
  await handle({ message: 'hello!' }, context);
  assert.deepStrictEqual(context.logged, [['info', 'display: %s', 'hello!']]);
});

test('a missing message is a 422', async () => {
  await assert.rejects(handle({}, makeContext()), (error) => error.status === 422);
});
