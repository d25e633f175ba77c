// Prompt templates as data (TaskSpec) and the exact strings, with part spans, of anchor / ICL / IT / SL prompts.
/*
 * The exact format. A task's template is one string with named slots, e.g. sentiment
 *
 *     "{instruction}\nReview: {text}\nSentiment: {label}"        label words: "Negative" (0) / "Positive" (1), the paper's
 *     "{instruction}\nEnglish: {source}\nCzech: {target}"        translation
 *
 * (a template may also be one line, "{instruction} Review: {text} Sentiment: {label}", as the paper writes it in §4.3)
 * and is split into three pieces (splitTemplate):
 *
 *     I  instruction part   = "{instruction}" and the whitespace right after it (a line break or spaces) → "{instruction}\n"
 *     A  demonstration      = the rest, with the answer filled in       → "Review: {text}\nSentiment: {label}"
 *     B  inference example  = A cut right before the answer slot, trailing spaces dropped → "Review: {text}\nSentiment:"
 *
 * The answer slot ({label} / {target}) must be the template's last thing. Demonstrations and the inference
 * example are joined by the separator "\n\n". With A_i = demonstration i filled in and B = the inference example:
 *
 *     anchor     = I + B
 *     ICL        = I + A_1 + "\n\n" + A_2 + ... + "\n\n" + A_k + "\n\n" + B      (k = 0 gives the anchor; sentiment, §2)
 *     ICL, every-example placement (translation, the paper's footnote 5) = I + A_1 + "\n\n" + I + A_2 + … + I + A_k + "\n\n" + I + B
 *     IT texts   = I + A_i, one text per demonstration (what the IT adapter is tuned on)
 *     SL         = a text built with { withInstruction: false }: the I part is left out, nothing else changes (the study
 *                  builds only SL's tuning texts this way; its anchor and ICL prompts keep the instruction, §4.2).
 *
 * Nothing else is added: no BOS, no trailing newline or space (the tokenizer adds BOS). Example text goes in
 * verbatim (readers already trimmed it). Slot values are inserted in one pass, so a "{...}" inside a review is
 * never treated as a slot. Every prompt comes with its parts: spans [start, end) in JS string indices (UTF-16
 * code units; use partsInUnits for code points or UTF-8 bytes) that tile the text exactly, in order:
 * instruction?, demonstration 0, separator 0, demonstration 1, ..., separator, inference?; each demonstration
 * also carries the span of its answer (the label word or the target sentence, without the space before it).
 */
import { IclitError } from '../util/errors.js';
import type { TaskSpec } from './tasks.js';

/** The gold answer text of an example: its label word or its target sentence. */
export function answerOf<E>(spec: TaskSpec<E>, example: E): string {
  return slotValue(spec.slots(example), spec.answerSlot, spec.template);
}

/** The three pieces of a template (see the comment at the top of this file). */
export interface TemplatePieces {
  instruction: string;
  demonstration: string;
  inference: string;
}

const SLOT = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Splits a full template into its instruction part, demonstration and inference example; checks its shape. */
export function splitTemplate(template: string, answerSlot: string): TemplatePieces {
  const head = '{instruction}';
  if (!template.startsWith(head)) throw new IclitError(`template ${JSON.stringify(template)} must start with ${head}`);
  // The instruction part ends after the whitespace that follows {instruction}: a line break ("{instruction}\nReview: …")
  // or a space (the one-line "{instruction} Review: … Sentiment: {label}" of the paper's §4.3).
  const cut = head.length + (/^\s*/.exec(template.slice(head.length))?.[0].length ?? 0);
  if (cut === head.length) throw new IclitError(`template ${JSON.stringify(template)} needs a space or a line break after ${head}`);
  const instruction = template.slice(0, cut);
  const demonstration = template.slice(cut);
  const answer = `{${answerSlot}}`;
  if (!demonstration.endsWith(answer) || demonstration.indexOf(answer) !== demonstration.length - answer.length) {
    throw new IclitError(`template ${JSON.stringify(template)} must end with its answer slot ${answer} (and hold it once)`);
  }
  if (/\{instruction\}/.test(demonstration)) throw new IclitError(`template ${JSON.stringify(template)} holds {instruction} twice`);
  const inference = demonstration.slice(0, -answer.length).replace(/ +$/, '');
  return { instruction, demonstration, inference };
}

function slotValue(values: Record<string, string>, name: string, template: string): string {
  const v = values[name];
  if (typeof v !== 'string') {
    throw new IclitError(`template ${JSON.stringify(template)}: slot {${name}} has no value (have: ${Object.keys(values).join(', ')})`);
  }
  return v;
}

/** A filled template piece and where each slot's value landed in it. */
interface Filled {
  text: string;
  slots: Record<string, Span>;
}

function fill(piece: string, values: Record<string, string>, template: string): Filled {
  let text = '';
  const slots: Record<string, Span> = {};
  let last = 0;
  for (const m of piece.matchAll(SLOT)) {
    text += piece.slice(last, m.index);
    const v = slotValue(values, m[1], template);
    slots[m[1]] = { start: text.length, end: text.length + v.length };
    text += v;
    last = m.index + m[0].length;
  }
  return { text: text + piece.slice(last), slots };
}

/** [start, end) in JS string indices. */
export interface Span {
  start: number;
  end: number;
}

export type PartKind = 'instruction' | 'demonstration' | 'separator' | 'inference';

/** One part of a prompt. `index`: demonstration i, or separator i (after demonstration i); 0 otherwise. */
export interface PromptPart extends Span {
  kind: PartKind;
  index: number;
  /** For demonstrations: the span of the answer (label word or target sentence). */
  answer?: Span;
}

/** A prompt's exact text and its parts, which tile the text in order. */
export interface Prompt {
  text: string;
  parts: PromptPart[];
}

/** Where the instruction stands in an ICL prompt: once at the start (the study's choice), or before every example. */
export type InstructionPlacement = 'once' | 'every-example';

export interface PromptOptions {
  /** false: leave out the instruction part (the SL texts and the instruction-free prompts). Default true. */
  withInstruction?: boolean;
  /** 'once' (default): X + A1 + … + B. 'every-example': X + A1 + … + X + Ak + X + B (instruction part i before example i). */
  instructionPlacement?: InstructionPlacement;
}

class PromptBuilder {
  text = '';
  parts: PromptPart[] = [];
  add(kind: PartKind, index: number, piece: string, answer?: Span): void {
    const start = this.text.length;
    this.text += piece;
    const part: PromptPart = { kind, index, start, end: this.text.length };
    if (answer) part.answer = { start: start + answer.start, end: start + answer.end };
    this.parts.push(part);
  }
  build(): Prompt {
    return { text: this.text, parts: this.parts };
  }
}

/** Adds instruction part `index` when the options ask for an instruction. */
function addInstruction<E>(b: PromptBuilder, spec: TaskSpec<E>, pieces: TemplatePieces, instruction: string, opts: PromptOptions, index: number): void {
  if (!(opts.withInstruction ?? true)) return;
  if (typeof instruction !== 'string' || instruction.trim() === '') throw new IclitError('instruction is empty (pass withInstruction: false for prompts without one)');
  b.add('instruction', index, fill(pieces.instruction, { instruction }, spec.template).text);
}

function addDemonstrations<E>(b: PromptBuilder, spec: TaskSpec<E>, pieces: TemplatePieces, demos: readonly E[], trailingSeparator: boolean, everyExample?: () => void): void {
  demos.forEach((d, i) => {
    if (i > 0) {
      b.add('separator', i - 1, spec.separator);
      everyExample?.();
    }
    const f = fill(pieces.demonstration, spec.slots(d), spec.template);
    b.add('demonstration', i, f.text, f.slots[spec.answerSlot]);
  });
  if (trailingSeparator && demos.length > 0) b.add('separator', demos.length - 1, spec.separator);
}

/** The anchor prompt X + B (instruction, then the inference example without its answer). */
export function anchorPrompt<E>(spec: TaskSpec<E>, instruction: string, inference: E, opts: PromptOptions = {}): Prompt {
  return iclPrompt(spec, instruction, [], inference, opts);
}

/** The ICL prompt X + A1 + label(A1) + ... + Ak + label(Ak) + B. */
export function iclPrompt<E>(spec: TaskSpec<E>, instruction: string, demonstrations: readonly E[], inference: E, opts: PromptOptions = {}): Prompt {
  const pieces = splitTemplate(spec.template, spec.answerSlot);
  const b = new PromptBuilder();
  let n = 0;
  const instruct = (): void => addInstruction(b, spec, pieces, instruction, opts, n++);
  instruct();
  const every = opts.instructionPlacement === 'every-example' ? instruct : undefined;
  addDemonstrations(b, spec, pieces, demonstrations, true, every);
  if (demonstrations.length > 0) every?.();
  b.add('inference', 0, fill(pieces.inference, spec.slots(inference), spec.template).text);
  return b.build();
}

/** The IT tuning texts X + A + label(A), one per demonstration (SL texts with withInstruction: false). */
export function tuningTexts<E>(spec: TaskSpec<E>, instruction: string, demonstrations: readonly E[], opts: PromptOptions = {}): Prompt[] {
  const pieces = splitTemplate(spec.template, spec.answerSlot);
  return demonstrations.map((d) => {
    const b = new PromptBuilder();
    addInstruction(b, spec, pieces, instruction, opts, 0);
    addDemonstrations(b, spec, pieces, [d], false);
    return b.build();
  });
}

/**
 * The part each token belongs to, given the tokens' [start, end) character offsets in `prompt.text` (same units as
 * the parts): the part it overlaps most (the earlier one on a tie); undefined for empty spans such as BOS.
 */
export function tokenParts(prompt: Prompt, offsets: ReadonlyArray<readonly [number, number]>): (PromptPart | undefined)[] {
  return offsets.map(([s, e]) => {
    let best: PromptPart | undefined;
    let bestOverlap = 0;
    for (const p of prompt.parts) {
      const overlap = Math.min(e, p.end) - Math.max(s, p.start);
      if (overlap > bestOverlap) {
        best = p;
        bestOverlap = overlap;
      }
    }
    return best;
  });
}

/** The prompt's parts with offsets in Unicode code points or UTF-8 bytes instead of UTF-16 code units. */
export function partsInUnits(prompt: Prompt, unit: 'codepoint' | 'utf8'): PromptPart[] {
  // position[i] = offset, in `unit`, of UTF-16 index i
  const position = new Array<number>(prompt.text.length + 1);
  let pos = 0;
  for (let i = 0; i < prompt.text.length; ) {
    const cp = prompt.text.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    position[i] = pos;
    if (width === 2) position[i + 1] = pos;
    pos += unit === 'codepoint' ? 1 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += width;
  }
  position[prompt.text.length] = pos;
  const conv = (s: Span): Span => ({ start: position[s.start], end: position[s.end] });
  return prompt.parts.map((p) => {
    const q: PromptPart = { ...p, ...conv(p) };
    if (p.answer) q.answer = conv(p.answer);
    return q;
  });
}

/** The tokens of one part: [start, end) indices into the prompt's token ids. */
export interface PartTokens {
  part: PromptPart;
  start: number;
  end: number;
}

/**
 * What partTokenRanges needs of a tokenizer: ids without special tokens, and the exact text back from ids (skip
 * special tokens; no clean-up of spaces: SST-2's "it 's" must decode as "it 's").
 */
export interface TextCodec {
  encode(text: string): ArrayLike<number>;
  decode(ids: number[]): string;
}

/**
 * Token ranges of every part, for tokenizers that give no character offsets. The whole text is encoded once
 * (no special tokens); a part ends at token j where j is
 *  1. the length of encode(text up to the part's end), when those ids are a prefix of the whole text's ids
 *     (the usual case at the built-in templates' "\n" boundaries), else
 *  2. the fewest whole-text tokens whose decoded text reaches the part's end (GPT-2-style tokenizers merge
 *     "\n\n" into one token at the end of a string but not before "Review"); a token that straddles a boundary
 *     belongs to the part holding its first character.
 * Throws when decoding does not give back the prompt text. Shift the ranges by one when the input starts with BOS.
 */
export function partTokenRanges(prompt: Prompt, codec: TextCodec): { ids: number[]; parts: PartTokens[] } {
  const ids = Array.from(codec.encode(prompt.text));
  const decodedLength = (j: number): number => {
    const text = codec.decode(ids.slice(0, j));
    if (!prompt.text.startsWith(text) && !(j > 0 && text.length > 0 && prompt.text.startsWith(text.slice(0, -1)))) {
      throw new IclitError(`decoding the first ${j} tokens does not give back the start of the prompt (${JSON.stringify(text.slice(-30))}); cannot map parts to tokens`);
    }
    return text.length;
  };
  const parts: PartTokens[] = [];
  let start = 0;
  for (const part of prompt.parts) {
    let end: number;
    const pre = part.end === prompt.text.length ? ids : Array.from(codec.encode(prompt.text.slice(0, part.end)));
    if (pre.length >= start && pre.length <= ids.length && pre.every((t, i) => ids[i] === t)) {
      end = pre.length;
    } else {
      // binary search for the fewest tokens whose decoded text covers part.end
      let lo = start;
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (decodedLength(mid) >= part.end) hi = mid;
        else lo = mid + 1;
      }
      end = lo;
    }
    parts.push({ part, start, end });
    start = end;
  }
  return { ids, parts };
}
