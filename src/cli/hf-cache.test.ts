// Models by hub id, offline: a fake Hugging Face cache (refs, snapshots, files linked to blobs) resolves `org/name` and `org/name@rev` for the library and the CLI, the manifest records id, revision and snapshot, and a missing model says where it looked and how to fetch it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hubCacheDir, isHubId, resolveHubModel, resolveModelFolder } from '../io/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { ResultsStore } from '../results/index.js';
import { runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-hub-');
const tiny = writeTinyStudy(root);
const cache = join(root, 'hub');
const MAIN = 'a'.repeat(40);
const V1 = 'b'.repeat(40);

/** Lays out `models--org--tiny` as huggingface_hub does: each file a blob named by its hash, snapshots link to blobs. */
function fakeCache(): void {
  const repo = join(cache, 'models--org--tiny');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  for (const [ref, hash] of [['main', MAIN], ['v1', V1]]) {
    const snap = join(repo, 'snapshots', hash);
    mkdirSync(snap, { recursive: true });
    for (const f of readdirSync(tiny.model)) {
      const bytes = readFileSync(join(tiny.model, f));
      const blob = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(repo, 'blobs', blob), bytes);
      symlinkSync(join('..', '..', 'blobs', blob), join(snap, f));
    }
    writeFileSync(join(repo, 'refs', ref), hash);
  }
}
fakeCache();
const env = { HF_HUB_CACHE: cache } as NodeJS.ProcessEnv;

test('the cache folder follows huggingface_hub: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/x/hub', HF_HOME: '/y' }), '/x/hub');
  assert.equal(hubCacheDir({ HF_HOME: '/y' }), '/y/hub');
  assert.equal(hubCacheDir({ HOME: '/home/u' }), '/home/u/.cache/huggingface/hub');
  assert.ok(isHubId('meta-llama/Llama-2-7b-hf') && isHubId('org/name@v1.0') && isHubId('org/name@refs/pr/1'));
  assert.ok(!isHubId('/abs/path') && !isHubId('./org/name') && !isHubId('../x/y') && !isHubId('a/b/c') && !isHubId('name'));
});

test('org/name resolves through refs/main, org/name@rev through refs/rev, org/name@<hash> to its snapshot', () => {
  const main = resolveHubModel('org/tiny', 'model', env);
  assert.deepEqual({ ...main, dir: undefined }, { id: 'org/tiny', revision: 'main', snapshot: MAIN, dir: undefined });
  assert.equal(main.dir, join(cache, 'models--org--tiny', 'snapshots', MAIN));
  assert.equal(resolveHubModel('org/tiny@v1', 'model', env).snapshot, V1);
  assert.equal(resolveHubModel(`org/tiny@${V1}`, 'model', env).dir, join(cache, 'models--org--tiny', 'snapshots', V1));
  // the files are links to blobs
  assert.notEqual(realpathSync(join(main.dir, 'config.json')), join(main.dir, 'config.json'));
});

test('a missing model or revision says where it looked and how to fetch it', () => {
  assert.throws(() => resolveHubModel('org/none', 'model', env), (e: Error) => {
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, new RegExp(`^model org/none is not a local folder, and the Hugging Face cache has no org/none \\(looked in ${join(cache, 'models--org--none')}\\); fetch it with \`huggingface-cli download org/none\` \\(iclit never downloads\\)$`));
    return true;
  });
  assert.throws(() => resolveHubModel('org/tiny@v9', 'model', env), /has no revision 'v9' of org\/tiny \(looked for .*refs\/v9; revisions there: main, v1\); fetch it with `huggingface-cli download org\/tiny --revision v9`/);
});

test('a local folder that exists wins over a hub id of the same spelling', () => {
  const cwd = process.cwd();
  mkdirSync(join(root, 'local', 'org'), { recursive: true });
  cpSync(tiny.model, join(root, 'local', 'org', 'tiny'), { recursive: true });
  process.chdir(join(root, 'local'));
  try {
    assert.deepEqual(resolveModelFolder('org/tiny', 'model folder', env), { dir: 'org/tiny' });
  } finally {
    process.chdir(cwd);
  }
});

test('iclit activations and run take --model org/name[@rev] from the cache; the manifest records id, revision and snapshot', async () => {
  const saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = cache;
  try {
    const a = await runCli(['activations', '--model', 'org/tiny', '--ids', '1,2,3', '--out', join(root, 'a.safetensors')]);
    assert.equal(a.code, 0, a.err);
    const out = join(root, 'results');
    const r = await runCli(['run', 'convergence', '--model', 'org/tiny@v1', '--data', tiny.sst2, '--repeats', '1', '--epochs', '1', '--out', out]);
    assert.equal(r.code, 0, r.err);
    const store = ResultsStore.open(out, { readonly: true });
    const m = store.manifest()!;
    store.close();
    assert.deepEqual(m.models[0].hub, { id: 'org/tiny', revision: 'v1', snapshot: V1 });
    assert.equal(m.models[0].label, 'tiny');
    assert.equal(m.models[0].path, join(cache, 'models--org--tiny', 'snapshots', V1));
    const missing = await runCli(['run', 'convergence', '--model', 'org/none', '--data', tiny.sst2, '--out', join(root, 'r2')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^iclit: model org\/none is not a local folder, and the Hugging Face cache has no org\/none \(looked in .*models--org--none\); fetch it with `huggingface-cli download org\/none`/);
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = saved;
  }
});
