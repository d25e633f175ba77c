"""Checks iclit against Hugging Face transformers and PEFT on the cases scripts/hf-crosscheck.ts wrote.

usage: python3 scripts/hf_crosscheck.py CASES_DIR   (needs torch, transformers, peft, safetensors)
Prints one line per comparison and exits 1 if any difference exceeds its tolerance.
"""
import json, os, sys
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
from peft import PeftModel

root = sys.argv[1]
failed = False
for name in sorted(os.listdir(root)):
    case_dir = os.path.join(root, name)
    if not os.path.exists(os.path.join(case_dir, 'case.json')):
        continue
    case = json.load(open(os.path.join(case_dir, 'case.json')))
    dt = torch.bfloat16 if case['dtype'] == 'bfloat16' else torch.float32
    # float32: 1e-4 absolute on hidden states; bfloat16: different kernels round differently (8-bit mantissa)
    tol = 1e-4 if dt == torch.float32 else 6e-2
    ids = torch.tensor([case['ids']])
    try:
        model = AutoModelForCausalLM.from_pretrained(os.path.join(case_dir, 'model'), dtype=dt, attn_implementation='eager')
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(os.path.join(case_dir, 'model'), torch_dtype=dt, attn_implementation='eager')
    model.eval()
    with torch.no_grad():
        out = model(ids, output_hidden_states=True)
    ref = load_file(os.path.join(case_dir, 'iclit.safetensors'))
    worst = max((out.hidden_states[i][0].float() - ref['hidden.%d' % i]).abs().max().item() for i in range(len(out.hidden_states)))
    logits = (out.logits[0].float() - ref['logits']).abs().max().item()
    ok = worst <= tol and logits <= tol * 10
    failed |= not ok
    print('%-22s transformers  hidden max|diff| %.2e  logits %.2e  %s' % (name, worst, logits, 'ok' if ok else 'FAIL'))
    peft = PeftModel.from_pretrained(model, os.path.join(case_dir, 'adapter'))
    peft.eval()
    with torch.no_grad():
        pout = peft(input_ids=ids, output_hidden_states=True)
    aref = load_file(os.path.join(case_dir, 'iclit-adapter.safetensors'))
    worst_a = max((pout.hidden_states[i][0].float() - aref['hidden.%d' % i]).abs().max().item() for i in range(len(pout.hidden_states)))
    moved = max((pout.hidden_states[-1][0].float() - out.hidden_states[-1][0].float()).abs().max().item(), 0)
    ok = worst_a <= tol and moved > 10 * tol
    failed |= not ok
    print('%-22s PEFT adapter  hidden max|diff| %.2e  (adapter moved states by %.2e)  %s' % (name, worst_a, moved, 'ok' if ok else 'FAIL'))
sys.exit(1 if failed else 0)
