// Chat-template rendering bounded in steps, time and size: a template is code from a model folder, and a 10⁸-step loop or a doubling string must stop in one line, not fill memory.
import { Environment, Interpreter } from '@huggingface/jinja';
import { IclitError } from '../util/errors.js';

/** Limits of one render: a real chat template takes a few thousand steps and renders a few thousand characters. */
export const RENDER_LIMITS = { steps: 2_000_000, millis: 5_000, chars: 10_000_000, rangeItems: 1_000_000 };

interface Budget {
  steps: number;
  deadline: number;
  source: string;
}

let budget: Budget | undefined;

function over(what: string): never {
  const b = budget!;
  budget = undefined;
  throw new IclitError(`${b.source}: the chat template ${what}; it is not a chat template iclit will run`);
}

type Evaluate = (this: unknown, statement: unknown, env: unknown) => { value?: unknown };
type SetVar = (this: unknown, name: string, value: unknown) => unknown;
let installed = false;

/**
 * Wraps the interpreter once: while a bounded render runs, each evaluation step counts against the budget and the
 * clock, a string or list result longer than the limit stops it, and range() refuses to build more items than the
 * limit (it would allocate them all before the loop's first step) and counts its items as steps.
 */
function install(): void {
  if (installed) return;
  installed = true;
  const ip = Interpreter.prototype as unknown as { evaluate: Evaluate };
  const evaluate = ip.evaluate;
  ip.evaluate = function (statement, env) {
    if (budget) {
      if (--budget.steps < 0) over(`took more than ${RENDER_LIMITS.steps} steps`);
      if (performance.now() > budget.deadline) over(`ran longer than ${RENDER_LIMITS.millis / 1000} s`);
    }
    const v = evaluate.call(this, statement, env);
    if (budget && (typeof v?.value === 'string' || Array.isArray(v?.value)) && (v.value as { length: number }).length > RENDER_LIMITS.chars) {
      over(`made a value of more than ${RENDER_LIMITS.chars} characters or items`);
    }
    return v;
  };
  const ep = Environment.prototype as unknown as { set: SetVar };
  const set = ep.set;
  ep.set = function (name, value) {
    if (name !== 'range' || typeof value !== 'function') return set.call(this, name, value);
    const range = value as (start: number, stop?: number, step?: number) => number[];
    return set.call(this, name, (start: number, stop?: number, step = 1) => {
      const [a, b] = stop === undefined ? [0, start] : [start, stop];
      const n = step === 0 ? 0 : Math.ceil((b - a) / step);
      if (budget && n > RENDER_LIMITS.rangeItems) over(`asked range() for ${n} items (at most ${RENDER_LIMITS.rangeItems})`);
      // each item is a loop step the body may not evaluate (an empty body): it counts against the steps anyway
      if (budget && (budget.steps -= Math.max(0, n)) < 0) over(`took more than ${RENDER_LIMITS.steps} steps`);
      return stop === undefined ? range(start) : range(start, stop, step);
    });
  };
}

/** Runs `render` (a Template.render call) within RENDER_LIMITS; `source` names the template in the one-line error. */
export function boundedRender<T>(source: string, render: () => T): T {
  install();
  const outer = budget;
  budget = { steps: RENDER_LIMITS.steps, deadline: performance.now() + RENDER_LIMITS.millis, source };
  try {
    return render();
  } finally {
    budget = outer;
  }
}
