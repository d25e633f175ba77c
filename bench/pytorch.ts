// Runs a Python snippet with Debian's python3-torch (if present) so benchmarks compare against plain PyTorch in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/python3', 'python3'];

/** The first python interpreter that can import torch, or undefined. */
export function torchPython(): string | undefined {
  for (const py of CANDIDATES) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/**
 * A Python helper that reads a .safetensors file into a dict of torch tensors without the safetensors package
 * (parses the JSON header, then frombuffer over the data).
 */
export const PY_LOAD_SAFETENSORS = `
import json, struct, torch
def load_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dt = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64}
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        b, e = v['data_offsets']
        buf = bytearray(data[base + b: base + e])
        t = torch.frombuffer(buf, dtype=dt[v['dtype']]) if e > b else torch.empty(0, dtype=dt[v['dtype']])
        out[k] = t.reshape(v['shape']).clone()
    return out
`;

/**
 * Runs `code` (which must print one JSON line last) and returns the parsed value, or undefined without torch. The
 * environment is this process's, so PyTorch starts under the thread policy iclit's binding set (OMP_WAIT_POLICY,
 * OPENBLAS_NUM_THREADS) unless `env` says otherwise.
 */
export function runPython<T>(code: string, timeoutMs = 600_000, env: NodeJS.ProcessEnv = process.env): T | undefined {
  const py = torchPython();
  if (!py) return undefined;
  const r = spawnSync(py, ['-c', code], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26, env });
  if (r.status !== 0) {
    process.stderr.write(`bench: the PyTorch reference failed:\n${r.stderr}\n`);
    return undefined;
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

/**
 * What both LLaMA benchmarks need in Python: the weights W and config C of the checkpoint in DIR (replace DIR with
 * a quoted path), head sizes, HF's RMSNorm and rotate_half. Appended after PY_LOAD_SAFETENSORS.
 */
export const PY_LLAMA_COMMON = `
import json
W = load_safetensors(DIR + '/model.safetensors')
C = json.load(open(DIR + '/config.json'))
H, KV, D, L = C['num_attention_heads'], C['num_key_value_heads'], C['head_dim'], C['num_hidden_layers']
def rms(x, w):
    x32 = x.float()
    return w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + C['rms_norm_eps'])).to(x.dtype)
def rot(x):
    d = x.shape[-1] // 2
    return torch.cat([-x[..., d:], x[..., :d]], -1)
`;
