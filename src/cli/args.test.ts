// Flag parsing: negative numbers reach the flag's own validation, parseArgs' errors become one usage line, stray arguments are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../util/errors.js';
import { joinNegativeValues, num, parseCommand, type Command } from './args.js';

const cmd: Command = {
  name: 'demo',
  summary: 'test command',
  usage: 'demo',
  maxPositionals: 1,
  flags: {
    layers: { type: 'string', description: 'layers' },
    out: { type: 'string', short: 'o', description: 'out' },
    force: { type: 'boolean', description: 'force' },
    text: { type: 'string', multiple: true, description: 'text' },
  },
  run: async () => 0,
};

test('a string flag followed by a negative number takes it as its value (long, short and repeatable flags)', () => {
  assert.deepEqual(joinNegativeValues(cmd, ['--layers', '-1', '-o', '-2.5', '--text', '-.5', '--text', '-3e-4']), ['--layers=-1', '--out=-2.5', '--text=-.5', '--text=-3e-4']);
  const { flags } = parseCommand(cmd, ['--layers', '-1', '--text', '-1', '--text', 'x']);
  assert.equal(flags.layers, '-1');
  assert.deepEqual(flags.text, ['-1', 'x']);
});

test('negative numbers are left alone after a boolean flag, after --, and when they are not numbers', () => {
  assert.deepEqual(joinNegativeValues(cmd, ['--force', '-1']), ['--force', '-1']);
  assert.deepEqual(joinNegativeValues(cmd, ['--', '--layers', '-1']), ['--', '--layers', '-1']);
  assert.deepEqual(joinNegativeValues(cmd, ['--layers', '-x']), ['--layers', '-x']);
  assert.deepEqual(joinNegativeValues(cmd, ['--unknown', '-1']), ['--unknown', '-1']);
});

test('parseArgs errors become one usage line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--layers', '-x'], /^--layers needs a value \(for a value that starts with '-', write --layers=VALUE\) \(see iclit demo --help\)$/],
    [['--layers'], /^--layers needs a value/],
    [['-o'], /^--out needs a value \(for a value that starts with '-', write --out=VALUE\)/],
    [['--out'], /^--out needs a value/],
    [['--layers', '--force'], /^--layers needs a value/],
    [['--bogus'], /^Unknown option '--bogus' \(see iclit demo --help\)$/],
    [['--force=1'], /^Option '--force' does not take an argument/],
    [['a', 'b', 'c'], /^unexpected arguments 'b', 'c' \(see iclit demo --help\)$/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseCommand(cmd, argv),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && !e.message.includes('\n') && re.test(e.message),
      argv.join(' '),
    );
  }
  assert.equal(parseCommand(cmd, ['a', 'b', '--help']).help, true, '--help wins over stray arguments');
});

test('num: positive refuses zero and negatives by name; min and max name their bound', () => {
  assert.throws(() => num({ lr: '-1' }, 'lr', { positive: true }), /: --lr must be a positive number, got -1$/);
  assert.throws(() => num({ lr: '0' }, 'lr', { positive: true }), /must be a positive number/);
  assert.equal(num({ lr: '1e-4' }, 'lr', { positive: true }), 1e-4);
  assert.throws(() => num({ n: '-1' }, 'n', { integer: true, min: 1 }), /: --n must be at least 1, got -1$/);
  assert.throws(() => num({ n: '1.5' }, 'n', { integer: true }), /must be an integer/);
  assert.throws(() => num({ n: 'abc' }, 'n'), /must be a \(decimal\) number, got 'abc'/);
  assert.throws(() => num({ n: '0x10' }, 'n'), /must be a \(decimal\) number, got '0x10'/);
  assert.equal(num({ n: '1e-4' }, 'n'), 1e-4);
});
