// checkCheckpointWeights reads a checkpoint's values once per process, and again when a file of it changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { tempDir } from '../util/testing.js';
import { checkCheckpointWeights } from './checkpoint-checks.js';
import { CheckpointWeights } from './checkpoint.js';
import { tinyConfig, writeRandomCheckpoint } from './random-checkpoint.js';
import { safetensorsParts, forgeSafetensors } from './testing.js';
import { decoderWeightShapes } from './weight-names.js';

const root = tempDir(test, 'iclit-ckpt-checks-');

test('a checkpoint that passed is not read again in the same process (run paper opens one study per preset); a rewritten file is checked again and refused', () => {
  const config = tinyConfig();
  const dir = writeRandomCheckpoint(join(root, 'model'), config, { seed: 3 });
  const shapes = decoderWeightShapes(config);
  let opened = 0;
  const open = CheckpointWeights.open.bind(CheckpointWeights);
  CheckpointWeights.open = (d: string) => {
    opened++;
    return open(d);
  };
  try {
    checkCheckpointWeights(dir, shapes);
    checkCheckpointWeights(dir, shapes);
    assert.equal(opened, 1, 'the second check of the unchanged files reads nothing');
    // the norm zeroed in place: same size, another modification time → read again, refused
    const file = join(dir, 'model.safetensors');
    const { header, data } = safetensorsParts(file);
    const [b, e] = (header['model.norm.weight'] as { data_offsets: [number, number] }).data_offsets;
    data.fill(0, b, e);
    forgeSafetensors(file, JSON.stringify(header), data);
    assert.throws(() => checkCheckpointWeights(dir, shapes), (err: unknown) => err instanceof IclitError && /model\.norm\.weight.* is all zeros/.test(err.message));
    assert.equal(opened, 2);
  } finally {
    CheckpointWeights.open = open;
  }
});
