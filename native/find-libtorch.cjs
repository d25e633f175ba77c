// Locates libtorch the way tch-rs does: $LIBTORCH, else a Python `torch` install, else Debian's libtorch-dev.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const HINT = [
  'iclit: libtorch was not found. Install one of:',
  '  - Debian/Ubuntu:  apt-get install -y libtorch-dev libopenblas0-pthread',
  '  - a Python PyTorch (pip install torch), found through `python3 -c "import torch"`',
  '  - an unpacked libtorch folder, named by the LIBTORCH environment variable',
].join('\n');

function hasHeaders(include) {
  return fs.existsSync(path.join(include, 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h'));
}

function fromFolder(root, source) {
  const include = path.join(root, 'include');
  const lib = path.join(root, 'lib');
  if (!hasHeaders(include) || !fs.existsSync(lib)) return null;
  return { source, include: [include, path.join(include, 'torch', 'csrc', 'api', 'include')], lib, cxx11abi: guessAbi(lib) };
}

// Pre-built libtorch/pip wheels older than 2.7 use the old C++ ABI; the symbol names tell.
function guessAbi(lib) {
  const so = path.join(lib, 'libc10.so');
  try {
    const out = execFileSync('nm', ['-D', '--defined-only', so], { encoding: 'utf8', maxBuffer: 1 << 28 });
    return out.includes('__cxx11') ? 1 : 0;
  } catch {
    return 1;
  }
}

function fromPython() {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    try {
      const out = execFileSync(py, ['-c', 'import torch,os;print(os.path.dirname(torch.__file__));print(int(torch._C._GLIBCXX_USE_CXX11_ABI))'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim().split('\n');
      const found = fromFolder(out[0], `python torch (${py})`);
      if (found) return { ...found, cxx11abi: Number(out[1]) };
    } catch {
      // no torch in this interpreter
    }
  }
  return null;
}

function fromDebian() {
  const include = '/usr/include';
  const libs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];
  const lib = libs.find((l) => fs.existsSync(path.join(l, 'libtorch.so')));
  if (!hasHeaders(include) || !lib) return null;
  return { source: 'Debian libtorch-dev', include: [include, path.join(include, 'torch', 'csrc', 'api', 'include')], lib, cxx11abi: 1 };
}

function findLibtorch() {
  if (process.env.LIBTORCH) {
    const found = fromFolder(process.env.LIBTORCH, `LIBTORCH=${process.env.LIBTORCH}`);
    if (!found) throw new Error(`LIBTORCH=${process.env.LIBTORCH} has no include/torch/csrc/api/include/torch/torch.h or lib/`);
    return found;
  }
  return fromPython() ?? fromDebian();
}

function cudaLibs(lib) {
  return ['torch_cuda', 'c10_cuda'].filter((n) => fs.existsSync(path.join(lib, `lib${n}.so`)));
}

module.exports = { findLibtorch, cudaLibs, HINT };

// Used by binding.gyp: `node find-libtorch.cjs include|lib|libs|defines`.
if (require.main === module) {
  const found = findLibtorch();
  if (!found) {
    console.error(HINT);
    process.exit(1);
  }
  const what = process.argv[2];
  if (what === 'include') console.log(found.include.join(' '));
  else if (what === 'lib') console.log(found.lib);
  else if (what === 'libs') {
    const cuda = cudaLibs(found.lib).map((n) => `-l${n}`);
    console.log(['-Wl,--no-as-needed', ...cuda, '-ltorch', '-ltorch_cpu', '-lc10', '-Wl,--as-needed'].join(' '));
  } else if (what === 'defines') console.log(`_GLIBCXX_USE_CXX11_ABI=${found.cxx11abi}`);
  else console.log(JSON.stringify(found));
}
