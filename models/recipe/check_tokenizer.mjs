// Check a tokenizer.json against both JavaScript implementations the project uses.
//
//   node models/recipe/check_tokenizer.mjs TOKENIZER_DIR CASES.json
//
// CASES.json: [{ "text": "...", "ids": [...] }] with ids from bpe.py (Python). For every case,
// @huggingface/tokenizers (pure JS, what the engine uses) and `tokenizers` (native Rust, the
// reference) must give the same ids, and both must decode them back to the text.
// Prints one JSON summary line; exits 1 on any mismatch.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import rust from "tokenizers";

const [dir, casesPath] = process.argv.slice(2);
const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
const js = new JsTokenizer(tokenizerJson, tokenizerConfig);
const native = rust.Tokenizer.fromFile(join(dir, "tokenizer.json"));
const cases = JSON.parse(readFileSync(casesPath, "utf8"));

const firstDiff = (a, b) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
};
const failures = [];
let tokens = 0;
for (const { text, ids } of cases) {
  const jsIds = js.encode(text, { add_special_tokens: false }).ids;
  const rustIds = (await native.encode(text, null, { addSpecialTokens: false })).getIds();
  const jsText = jsIds.length ? js.decode(jsIds) : "";
  const rustText = rustIds.length ? await native.decode(rustIds, false) : "";
  tokens += ids.length;
  const problems = [];
  if (firstDiff(jsIds, ids) >= 0) problems.push(`js ids differ at ${firstDiff(jsIds, ids)}`);
  if (firstDiff(rustIds, ids) >= 0) problems.push(`rust ids differ at ${firstDiff(rustIds, ids)}`);
  if (jsText !== text) problems.push("js round trip");
  if (rustText !== text) problems.push("rust round trip");
  if (problems.length) failures.push({ text: text.slice(0, 80), problems });
}
console.log(JSON.stringify({ cases: cases.length, tokens, failures: failures.slice(0, 10), failed: failures.length }));
process.exit(failures.length ? 1 : 0);
