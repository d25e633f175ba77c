// A model folder's own chat template (Jinja, via @huggingface/jinja) and the study's anchor / ICL / tuning texts rendered through it, with spans.
/*
 * How the study's situations become conversations (X = instruction, A_i / answer_i = demonstration i, B = the
 * inference input; each user turn is "X" + join + "A" with join "\n" by default, as the plain template's
 * instruction line):
 *
 *     anchor        [user: X + B]                                          + generation prompt
 *     ICL           [user: X + A_1] [assistant: answer_1] [user: A_2] [assistant: answer_2] … [user: B]
 *                                                                          + generation prompt
 *     tuning text i [user: X + A_i] [assistant: answer_i]                  (no generation prompt)
 *     IT read       the anchor, under the tuned model
 *
 * Demonstrations are turns, not one user message: the IT adapter is tuned on [user: X + A][assistant: answer],
 * so with turns the ICL conversation holds exactly that exchange, in the same form, followed by the inference
 * turn — the chat counterpart of X + A + label(A) + B — and a k=1 ICL prompt is the tuning text plus [user: B].
 * Every read ends with the generation prompt (add_generation_prompt: true), so the hidden state is taken at the
 * last token of the generation prompt, where the model is about to answer. Tokenise rendered texts without
 * adding special tokens (as transformers' apply_chat_template does): the template writes BOS itself where the
 * model wants one (LLaMA-2: "<s>[INST] …"; ChatML: none).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { IclitError } from '../util/errors.js';
import { readJsonObject } from '../util/json-file.js';
import { boundedRender } from './jinja-bounds.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The special-token strings a template may refer to (bos_token, eos_token, …). */
export interface ChatSpecialTokens {
  bos_token?: string;
  eos_token?: string;
  unk_token?: string;
  pad_token?: string;
}

const TEMPLATE_FILE = 'chat_template.jinja';
const CONFIG_FILE = 'tokenizer_config.json';

/** A chat template ready to render conversations. */
export class ChatTemplate {
  readonly #template: Template;

  private constructor(
    text: string,
    readonly specials: ChatSpecialTokens,
    /** Where the template came from (a file, or a label); named in errors. */
    readonly source: string,
  ) {
    try {
      this.#template = new Template(text);
    } catch (e) {
      throw new IclitError(`${source}: the chat template does not parse: ${oneLine(e)}`);
    }
  }

  /**
   * The template of a tokenizer folder: chat_template.jinja (newer transformers) else tokenizer_config.json's
   * `chat_template` (a string, or a list of {name, template} whose "default" is used); special tokens from
   * tokenizer_config.json. A folder without one is one clear line.
   */
  static load(dir: string): ChatTemplate {
    const configPath = join(dir, CONFIG_FILE);
    const config = existsSync(configPath) ? readJsonObject(configPath) : {};
    const specials = specialTokens(config, configPath);
    const file = join(dir, TEMPLATE_FILE);
    if (existsSync(file)) return new ChatTemplate(readFileSync(file, 'utf8'), specials, file);
    const t = config.chat_template;
    if (typeof t === 'string') return new ChatTemplate(t, specials, `${configPath} "chat_template"`);
    if (Array.isArray(t)) {
      const named = t.find((x) => x && typeof x === 'object' && (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
      if (named && typeof named.template === 'string') return new ChatTemplate(named.template, specials, `${configPath} "chat_template" (default)`);
      throw new IclitError(`${configPath}: "chat_template" is a list without a "default" template`);
    }
    if (t !== undefined && t !== null) throw new IclitError(`${configPath}: "chat_template" must be a string or a list of {name, template}, got ${JSON.stringify(t)}`);
    throw new IclitError(`${dir} has no chat template (no ${TEMPLATE_FILE} and no "chat_template" in ${CONFIG_FILE}); a chat template needs a chat model's tokenizer folder`);
  }

  /** A template from its text (tests, or a template given separately from the model folder). */
  static fromString(text: string, specials: ChatSpecialTokens = {}, source = '<chat template>'): ChatTemplate {
    return new ChatTemplate(text, specials, source);
  }

  /** The exact text of `messages`, as transformers' apply_chat_template(tokenize=False) renders it. */
  render(messages: readonly ChatMessage[], opts: { addGenerationPrompt: boolean }): string {
    try {
      return boundedRender(this.source, () => this.#template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: opts.addGenerationPrompt,
        ...this.specials,
      }));
    } catch (e) {
      if (e instanceof IclitError) throw e; // a bound: its own line names the template
      // Also what the template's own raise_exception('…') gives (the library defines it, as transformers does).
      throw new IclitError(`${this.source}: rendering the chat template failed: ${oneLine(e)}`);
    }
  }
}

// ---------- the study's texts ----------

/** One demonstration: its input (e.g. "Review: …\nSentiment:") and its answer (e.g. "positive"). */
export interface ChatDemonstration {
  input: string;
  answer: string;
}

/** The study's pieces of one repeat. */
export interface ChatStudyPieces {
  instruction: string;
  demonstrations: readonly ChatDemonstration[];
  /** The inference input B. */
  input: string;
  /** Between the instruction and the example inside a user turn; default "\n". */
  join?: string;
}

export type ChatSpanKind = 'instruction' | 'demonstration' | 'answer' | 'inference';

/** Where one of the study's pieces landed in a rendered text: [start, end) in JS string indices. */
export interface ChatSpan {
  kind: ChatSpanKind;
  /** Demonstration / answer index; 0 for the instruction and the inference input. */
  index: number;
  start: number;
  end: number;
}

export interface ChatText {
  /** The exact rendered string (tokenise it without adding special tokens). */
  text: string;
  /** Every piece of the study in the text, in order; the template's own markup lies between them. */
  spans: ChatSpan[];
}

export interface ChatTuningText extends ChatText {
  /**
   * The assistant answer: [start, end) of the answer text itself. What follows it (to the end of the text) is the
   * template's end of turn (" </s>", "<|im_end|>\n"), which transformers' assistant masks include.
   */
  answer: { start: number; end: number };
}

export interface ChatPrompts {
  anchor: ChatText;
  icl: ChatText;
  /** One per demonstration. */
  tuning: ChatTuningText[];
}

/** The anchor, ICL and tuning texts of one repeat rendered through `template` (see the top of this file). */
export function chatPrompts(template: ChatTemplate, p: ChatStudyPieces): ChatPrompts {
  const join = p.join ?? '\n';
  const x = piece('instruction', 0, p.instruction);
  const anchor = renderPieces(template, [{ role: 'user', content: [x, join, piece('inference', 0, p.input)] }], true);
  const turns: PieceMessage[] = [];
  p.demonstrations.forEach((d, i) => {
    const a = piece('demonstration', i, d.input);
    turns.push({ role: 'user', content: i === 0 ? [x, join, a] : [a] }, { role: 'assistant', content: [piece('answer', i, d.answer)] });
  });
  turns.push({ role: 'user', content: p.demonstrations.length === 0 ? [x, join, piece('inference', 0, p.input)] : [piece('inference', 0, p.input)] });
  const icl = renderPieces(template, turns, true);
  const tuning = p.demonstrations.map((d, i) => {
    const t = renderPieces(template, [
      { role: 'user', content: [x, join, piece('demonstration', i, d.input)] },
      { role: 'assistant', content: [piece('answer', i, d.answer)] },
    ], false);
    const a = t.spans.find((s) => s.kind === 'answer')!;
    return { ...t, answer: { start: a.start, end: a.end } };
  });
  return { anchor, icl, tuning };
}

/** One of the study's pieces inside a message: its kind, index and exact text. */
export interface ChatPiece {
  kind: ChatSpanKind;
  index: number;
  value: string;
}
/** A message made of the study's pieces and literal strings between them. */
export interface ChatPieceMessage {
  role: ChatMessage['role'];
  content: (ChatPiece | string)[];
}
type Piece = ChatPiece;
type PieceMessage = ChatPieceMessage;

export function piece(kind: ChatSpanKind, index: number, value: string): Piece {
  if (typeof value !== 'string' || value === '') throw new IclitError(`chat prompt: the ${kind}${kind === 'demonstration' || kind === 'answer' ? ` ${index}` : ''} is empty`);
  return { kind, index, value };
}

// Private-use characters: no template filter (trim, strip) touches them and no study text holds them.
const mark = (i: number) => `\uE000${i}\uE001`;
const MARK = /\uE000(\d+)\uE001/g;

/**
 * Renders the conversation twice — with the real pieces, and with a unique marker for each — and reads the spans
 * off the marked rendering. The real text must equal the marked one with the markers replaced by the pieces: a
 * template that drops, repeats or rewrites message content is refused rather than given wrong spans.
 */
export function renderPieces(t: ChatTemplate, messages: PieceMessage[], addGenerationPrompt: boolean): ChatText {
  const pieces: Piece[] = [];
  const real: ChatMessage[] = [];
  const marked: ChatMessage[] = [];
  for (const m of messages) {
    let r = '';
    let k = '';
    for (const c of m.content) {
      if (typeof c === 'string') {
        r += c;
        k += c;
      } else {
        r += c.value;
        k += mark(pieces.length);
        pieces.push(c);
      }
    }
    real.push({ role: m.role, content: r });
    marked.push({ role: m.role, content: k });
  }
  const text = t.render(real, { addGenerationPrompt });
  const withMarks = t.render(marked, { addGenerationPrompt });
  let rebuilt = '';
  let last = 0;
  const spans: ChatSpan[] = [];
  const seen = new Set<number>();
  for (const m of withMarks.matchAll(MARK)) {
    const i = Number(m[1]);
    if (seen.has(i) || !pieces[i]) throw new IclitError(`${t.source}: the chat template repeats message content; cannot place the study's pieces in it`);
    seen.add(i);
    rebuilt += withMarks.slice(last, m.index);
    spans.push({ kind: pieces[i].kind, index: pieces[i].index, start: rebuilt.length, end: rebuilt.length + pieces[i].value.length });
    rebuilt += pieces[i].value;
    last = m.index + m[0].length;
  }
  rebuilt += withMarks.slice(last);
  if (seen.size !== pieces.length) throw new IclitError(`${t.source}: the chat template leaves out part of the messages (${pieces.length - seen.size} of ${pieces.length} pieces missing)`);
  if (rebuilt !== text) {
    throw new IclitError(`${t.source}: the chat template rewrites message content (e.g. trims it); the study's pieces must come out verbatim`);
  }
  return { text, spans };
}

/**
 * What the template puts between the end of a generation prompt and the assistant's answer (LLaMA-2: ' ', ChatML:
 * ''), read off a rendering with and one without the answer: where the first token of an answer word is scored.
 */
export function answerSeparator(t: ChatTemplate): string {
  const user: ChatMessage = { role: 'user', content: 'u' };
  const prompt = t.render([user], { addGenerationPrompt: true });
  const answered = t.render([user, { role: 'assistant', content: '\uE002' }], { addGenerationPrompt: false });
  const at = answered.indexOf('\uE002');
  return answered.startsWith(prompt) && at >= prompt.length ? answered.slice(prompt.length, at) : ' ';
}

/** bos/eos/unk/pad strings from tokenizer_config.json (plain strings or AddedToken objects with "content"). */
function specialTokens(config: Record<string, unknown>, path: string): ChatSpecialTokens {
  const out: ChatSpecialTokens = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    const content = typeof v === 'string' ? v : typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
    if (content === undefined) throw new IclitError(`${path}: "${key}" must be a token string or {"content": …}, got ${JSON.stringify(v)}`);
    out[key] = content;
  }
  return out;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
