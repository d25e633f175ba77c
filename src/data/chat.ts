// A study prompt rendered through a model's chat template: its parts become user / assistant turns, the spans come back as parts.
/*
 * The plain prompt's parts decide the conversation (see src/tokenizers/chat-template.ts for why demonstrations
 * are turns):
 *
 *     instruction X, demonstration A_i (with its answer), …, inference B
 *       → [user: X + "\n" + A_1-input] [assistant: answer_1] [user: A_2-input] … [user: B]  (+ generation prompt)
 *
 * An instruction before every example (instructionPlacement 'every-example') opens every user turn; SL texts
 * (no instruction) have none; separators are the template's business and are dropped. Reads (anchor, ICL,
 * evaluation) end with the generation prompt, tuning texts with the answer's end of turn. The rendered text's
 * parts locate the instruction, each demonstration (input to answer, with the answer's own span) and B.
 */
import { piece, renderPieces, type ChatPieceMessage, type ChatTemplate } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import type { Prompt, PromptPart } from './prompts.js';

/** `prompt` as its model's chat template renders it; `generation`: end with the generation prompt (a read). */
export function chatPrompt(template: ChatTemplate, prompt: Prompt, generation: boolean): Prompt {
  const turns: ChatPieceMessage[] = [];
  let user: ChatPieceMessage['content'] = [];
  const text = (p: PromptPart, end = p.end): string => prompt.text.slice(p.start, end);
  for (const p of prompt.parts) {
    if (p.kind === 'instruction') user.push(piece('instruction', p.index, text(p).replace(/\n$/, '')), '\n');
    else if (p.kind === 'demonstration') {
      if (!p.answer) throw new IclitError('chat prompt: a demonstration has no answer span');
      user.push(piece('demonstration', p.index, text(p, p.answer.start).trimEnd()));
      turns.push({ role: 'user', content: user }, { role: 'assistant', content: [piece('answer', p.index, prompt.text.slice(p.answer.start, p.answer.end))] });
      user = [];
    } else if (p.kind === 'inference') user.push(piece('inference', p.index, text(p)));
  }
  if (user.length > 0) turns.push({ role: 'user', content: user });
  const rendered = renderPieces(template, turns, generation);
  const parts: PromptPart[] = [];
  for (const s of rendered.spans) {
    if (s.kind === 'answer') {
      const demo = [...parts].reverse().find((q) => q.kind === 'demonstration' && q.index === s.index);
      if (!demo) throw new IclitError('chat prompt: an answer without its demonstration');
      demo.end = s.end;
      demo.answer = { start: s.start, end: s.end };
    } else parts.push({ kind: s.kind, index: s.index, start: s.start, end: s.end });
  }
  return { text: rendered.text, parts };
}
