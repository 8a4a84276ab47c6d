/**
 * The spans of a completion's prompt that a dependence ranking takes out one at a time: each
 * line of the prefix and suffix window, each repository snippet (with its path header), and each
 * copy source (an excerpt only the copy cache reads). Pure: token ranges from the prompt's
 * segments and the tokens' texts.
 */
import type { CopySequence } from '../completion/completion';
import type { FimPrompt, PromptSegment } from '../completion/fimPrompt';
import type { TextTokenizer } from '../runtime/tokenizer';
import type { PromptSpan, SpanKind } from './types';

/** Every span of `prompt` (and of the copy sources), in prompt order, copy sources last; only `kinds` when given. */
export function promptSpans(
  tokenizer: TextTokenizer,
  prompt: Pick<FimPrompt, 'ids' | 'segments'>,
  copy: CopySequence | null,
  kinds?: readonly SpanKind[],
): PromptSpan[] {
  const out: Omit<PromptSpan, 'id'>[] = [];
  let blockEnd = 0; // snippet blocks are contiguous from the prompt's start
  for (const seg of [...prompt.segments].sort((a, b) => a.start - b.start)) {
    if (seg.kind === 'snippet') {
      // the block's `<|file_sep|>path\n` header goes with it: a header left alone would announce nothing
      out.push(block('snippet', tokenizer, prompt.ids, seg, blockEnd));
      blockEnd = seg.end;
    } else out.push(...lines(seg.kind, tokenizer, prompt.ids, seg));
  }
  for (const seg of copy?.segments ?? []) out.push(block('copy', tokenizer, copy!.ids, seg, seg.start));
  return out.filter((s) => !kinds || kinds.includes(s.kind)).map((s, id) => ({ id, ...s }));
}

/** A snippet or copy source: tokens [from, seg.end), its lines from the segment's first line and its text. */
function block(
  kind: 'snippet' | 'copy',
  tokenizer: TextTokenizer,
  ids: readonly number[],
  seg: PromptSegment,
  from: number,
): Omit<PromptSpan, 'id'> {
  const text = tokenizer.decode(ids.slice(seg.start, seg.end));
  const firstLine = seg.line === undefined ? undefined : seg.line + 1;
  const breaks = countNewlines(text.replace(/\n$/, ''));
  return {
    kind,
    start: from,
    end: seg.end,
    path: seg.path,
    ...(firstLine !== undefined ? { firstLine, lastLine: firstLine + breaks } : {}),
    text,
  };
}

/**
 * The lines of a prefix or suffix segment. A token belongs to the line it starts on, and a line
 * ends with the token that holds its line break (`\n    ` takes the next line's indent with it:
 * tokens do not split at line ends). Lines of whitespace alone are left out.
 */
function lines(
  kind: 'prefix' | 'suffix',
  tokenizer: TextTokenizer,
  ids: readonly number[],
  seg: PromptSegment,
): Omit<PromptSpan, 'id'>[] {
  const out: Omit<PromptSpan, 'id'>[] = [];
  let line = seg.line;
  let start = seg.start;
  let text = '';
  const flush = (end: number) => {
    if (text.trim() !== '')
      out.push({
        kind,
        start,
        end,
        path: seg.path,
        ...(line !== undefined ? { firstLine: line + 1, lastLine: line + 1 } : {}),
        text: text.replace(/\n[\s\S]*$/, ''),
      });
    start = end;
    text = '';
  };
  for (let i = seg.start; i < seg.end; i++) {
    const t = tokenizer.tokenText(ids[i]);
    text += t;
    const breaks = countNewlines(t);
    if (breaks > 0) {
      flush(i + 1);
      if (line !== undefined) line += breaks;
    }
  }
  flush(seg.end);
  return out;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
