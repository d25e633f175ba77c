// failureOf: filesystem and SQLite errors become one line naming the path or database with exit 1; anything unanticipated stays exit 70.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IclitError, UsageError } from '../util/errors.js';
import { databaseOf, failureOf } from './failures.js';
import { tempDir } from '../util/testing.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

function tmp(t: { after(fn: () => void): unknown }): string {
  const dir = tempDir(t, 'iclit-failures-');
  return dir;
}

test('IclitErrors keep their message and exit code (usage 2, input 1)', () => {
  assert.deepEqual(failureOf(new UsageError('--x is required')), { message: '--x is required', exitCode: 2 });
  assert.deepEqual(failureOf(new IclitError('bad file')), { message: 'bad file', exitCode: 1 });
});

test('Node filesystem errors name their path and what is wrong, exit 1', (t) => {
  const dir = tmp(t);
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'x');
  const cases: [unknown, string][] = [
    [thrown(() => readFileSync(join(dir, 'missing'))), `${join(dir, 'missing')}: no such file or folder`],
    [thrown(() => mkdirSync(join(file, 'sub'))), `${join(file, 'sub')}: a part of the path is a file, not a folder`],
    [thrown(() => readFileSync(dir)), 'is a folder, not a file (read)'],
    [thrown(() => mkdirSync(dir)), `${dir}: already exists`],
  ];
  for (const [e, message] of cases) assert.deepEqual(failureOf(e), { message, exitCode: 1 });
});

test('SQLite errors name the damaged database among the folders the command was given, exit 1', (t) => {
  const dir = tmp(t);
  const good = join(dir, 'good');
  const bad = join(dir, 'bad');
  for (const d of [good, bad]) mkdirSync(d);
  new Database(join(good, 'results.sqlite')).exec('CREATE TABLE t (x)');
  writeFileSync(join(bad, 'results.sqlite'), Buffer.alloc(8192, 0xab));
  const e = thrown(() => new Database(join(bad, 'results.sqlite')).prepare('SELECT 1').get());
  assert.equal((e as { code: string }).code, 'SQLITE_NOTADB');
  assert.equal(databaseOf([good, bad, join(dir, 'absent')], 'SQLITE_NOTADB'), join(bad, 'results.sqlite'));
  assert.deepEqual(failureOf(e, [good, bad]), { message: `${join(bad, 'results.sqlite')}: not a SQLite database (SQLITE_NOTADB)`, exitCode: 1 });
  assert.equal(failureOf(e, [bad]).message, `${join(bad, 'results.sqlite')}: not a SQLite database (SQLITE_NOTADB)`, 'the only database is named without checking');
  assert.match(failureOf(e, []).message, /^a results database: not a SQLite database/);
});

test('anything unanticipated is an internal error (exit 70), one line', () => {
  assert.deepEqual(failureOf(new TypeError('x is not a function\n    at foo')), { message: 'internal error: x is not a function (set ICLIT_DEBUG=1 for the stack trace)', exitCode: 70 });
  const sqlBug = thrown(() => new Database(':memory:').prepare('SELEC nonsense'));
  assert.equal(failureOf(sqlBug).exitCode, 70, 'a malformed statement is our bug, not the user’s file');
  assert.equal(failureOf('a string').exitCode, 70);
});
