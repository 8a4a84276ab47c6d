/**
 * The text each token contributes to the decoded sequence, in O(T) decodes: a token that holds
 * part of a UTF-8 character (it decodes to U+FFFD alone) is grouped with the next ones until the
 * group decodes cleanly; the group's text goes to its first token, the others get ''.
 */
import type { TextTokenizer } from '../runtime/tokenizer';

const MAX_GROUP = 4; // a UTF-8 character spans at most 4 bytes

export function tokenPieces(tokenizer: TextTokenizer, ids: readonly number[]): string[] {
  const pieces: string[] = [];
  let group: number[] = [];
  const flush = (text: string) => {
    pieces.push(text, ...new Array<string>(group.length - 1).fill(''));
    group = [];
  };
  for (const id of ids) {
    group.push(id);
    const text = tokenizer.decode(group);
    if (!text.includes('\uFFFD') || group.length >= MAX_GROUP) flush(text);
  }
  if (group.length > 0) flush(tokenizer.decode(group));
  return pieces;
}
