// tidy refuses a function that returns a promise (its tensors would escape the scope), and frees what it made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from './index.js';

test('tidy refuses an async function (a returned promise) and frees the tensors it made before the await', async () => {
  let made: ReturnType<typeof tensor> | undefined;
  assert.throws(
    () => tidy(async () => {
      made = tensor([1, 2, 3], [3]);
      await Promise.resolve();
      return 1;
    }),
    /cannot take a function that returns a promise/,
  );
  assert.ok(made!.disposed, 'the tensor made inside was freed');
  assert.throws(() => tidy(() => ({ then: () => undefined })), /returns a promise/, 'any thenable');
  assert.equal(tidy(() => 3), 3, 'a synchronous function still runs');
});
