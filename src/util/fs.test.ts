// Path checks: output folders and files and input folders and files each fail with one line naming the path, without creating anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from './errors.js';
import { checkInputDir, checkInputFile, checkOutputDir, checkOutputFile } from './fs.js';
import { tempDir } from './testing.js';

function setup(t: { after(fn: () => void): unknown }): { dir: string; file: string; folder: string; dangling: string } {
  const dir = tempDir(t, 'iclit-fs-');
  const file = join(dir, 'a.txt');
  writeFileSync(file, 'x');
  const folder = join(dir, 'sub');
  mkdirSync(folder);
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'nowhere'), dangling);
  return { dir, file, folder, dangling };
}

function fails(fn: () => void, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof IclitError && e.exitCode === 1 && (typeof message === 'string' ? e.message === message : message.test(e.message)), String(message));
}

test('checkOutputDir: new, existing and nested folders pass; a file, a link to nothing and /proc fail fast, creating nothing', (t) => {
  const { dir, file, folder, dangling } = setup(t);
  checkOutputDir(folder, 'results folder');
  checkOutputDir(join(dir, 'new', 'deeper'), 'results folder');
  assert.equal(existsSync(join(dir, 'new')), false, 'nothing is created');
  fails(() => checkOutputDir(file, 'report folder'), `report folder ${file} is a file, not a folder`);
  fails(() => checkOutputDir(join(file, 'x'), 'report folder'), `report folder ${join(file, 'x')}: ${file} is a file, not a folder`);
  fails(() => checkOutputDir(dangling, 'report folder'), `report folder ${dangling} is a symbolic link to a missing target`);
  fails(() => checkOutputDir(join(dangling, 'x'), 'report folder'), `report folder ${join(dangling, 'x')}: ${dangling} is a symbolic link to a missing target`);
  fails(() => checkOutputDir('/proc/iclit-x/y', 'report folder'), 'report folder /proc/iclit-x/y is on the proc pseudo-filesystem; choose a folder on a real disk');
});

test('checkOutputFile: a new or existing file passes; a folder, a link to nothing, a file in the way and /proc fail', (t) => {
  const { dir, file, folder, dangling } = setup(t);
  checkOutputFile(file, 'output file');
  checkOutputFile(join(dir, 'missing', 'x.safetensors'), 'output file');
  fails(() => checkOutputFile(folder, 'output file'), `output file ${folder} is a folder; give a file name`);
  fails(() => checkOutputFile(dangling, 'output file'), `output file ${dangling} is a symbolic link to a missing target`);
  fails(() => checkOutputFile(join(file, 'x.csv'), 'export file'), `export file ${join(file, 'x.csv')}: ${file} is a file, not a folder`);
  fails(() => checkOutputFile('/proc/x.csv', 'export file'), /^export file \/proc\/x\.csv is on the proc pseudo-filesystem/);
});

test('checkInputDir / checkInputFile: "does not exist", "is a file, not a …", "is a folder, not a …"', (t) => {
  const { dir, file, folder, dangling } = setup(t);
  checkInputDir(folder, 'model folder');
  checkInputFile(file, 'data file');
  fails(() => checkInputDir(join(dir, 'none'), 'model folder'), `model folder ${join(dir, 'none')} does not exist`);
  fails(() => checkInputDir(file, 'model folder'), `${file} is a file, not a model folder`);
  fails(() => checkInputDir(file, 'adapter folder'), `${file} is a file, not an adapter folder`);
  fails(() => checkInputDir(dangling, 'model folder'), `model folder ${dangling} is a symbolic link to a missing target`);
  fails(() => checkInputFile(folder, 'data file'), `${folder} is a folder, not a data file`);
  fails(() => checkInputFile(join(dir, 'none.tsv'), 'data file'), `data file ${join(dir, 'none.tsv')} does not exist`);
});
