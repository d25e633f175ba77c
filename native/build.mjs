// Builds the libtorch binding at install time; skips the (slow) compile when sources and libtorch are unchanged.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { findLibtorch, HINT } = require('./find-libtorch.cjs');

const found = findLibtorch();
if (!found) {
  console.error(HINT);
  process.exit(1);
}
const hash = createHash('sha256');
for (const f of ['binding.h', 'torch_binding.cc', 'allocator.cc', 'ops.cc', 'fused.cc', 'linear.cc', 'attention_cpu.cc', 'elementwise_cpu.cc', 'train_ops.cc', 'runtime.cc', 'binding.gyp', 'find-libtorch.cjs']) hash.update(readFileSync(join(here, f)));
hash.update(JSON.stringify(found));
const stamp = join(here, 'build', 'iclit-build.stamp');
const addon = join(here, 'build', 'Release', 'iclit_torch.node');
const digest = hash.digest('hex');
if (existsSync(addon) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
  console.error(`iclit: native binding up to date (libtorch from ${found.source})`);
  process.exit(0);
}
console.error(`iclit: building the native binding against libtorch from ${found.source} (takes a few minutes)`);
const gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
const jobs = process.env.JOBS ?? 'max';
// Build against the headers of the running Node when they are installed beside it (no download needed offline).
const localHeaders = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(localHeaders, 'include', 'node', 'node_api.h')) ? localHeaders : undefined);
const args = [gyp, 'rebuild', '--directory', here, `--jobs=${jobs}`, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('iclit: the native build failed (see above).');
  process.exit(r.status ?? 1);
}
writeFileSync(stamp, digest);
