/**
 * Identifier tokens of code, the unit snippet retrieval compares: two pieces of code are alike
 * when they use the same names (Copilot's neighbouring-tab matcher and Continue's ranker use the
 * same Jaccard over identifier sets). Keywords of the languages Glassbox completes are left out:
 * every Python chunk says `def` and `self`, so they would make all chunks look alike.
 */
const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;

const KEYWORDS = new Set(
  (
    'and as assert async await break case catch class const continue debugger def default del delete do elif else ' +
    'enum except export extends false finally for from function global if import in instanceof interface is ' +
    'lambda let new none nonlocal not null of or pass private protected public raise readonly return self static ' +
    'super switch this throw true try type typeof undefined var void while with yield None True False string ' +
    'number boolean any unknown never object int str bool float list dict'
  ).split(' '),
);

/** The distinct identifiers of `text` that are not keywords and have at least two characters. */
export function identifierSet(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(IDENTIFIER)) {
    const id = m[0];
    if (id.length >= 2 && !KEYWORDS.has(id)) out.add(id);
  }
  return out;
}

/** The identifier being typed at the end of `text` (the cursor's line prefix), or ''. */
export function partialIdentifier(text: string): string {
  const m = /[A-Za-z_$][A-Za-z0-9_$]*$/.exec(text);
  return m ? m[0] : '';
}
