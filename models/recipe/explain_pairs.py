"""(code -> summary) pairs for the explain fine-tune, from the corpus splits.

    nice -n 10 /usr/bin/python3 models/recipe/explain_pairs.py [--corpus DIR] [--out DIR]

Reads  data/corpus/{train,valid,test}.jsonl; writes data/explain/{train,valid,test}.jsonl, one
pair per line: {"package", "path", "lang", "name", "code", "summary"}. Pairs keep their file's
split, so held-out pairs come from packages the model never trained on.

  Python      every function, method and class with a docstring (`ast`): the code is the
              definition's source with the docstring statement cut out; the summary is the
              docstring's first paragraph.
  JS / TS     every `/** JSDoc */` block directly above a function, method, class, or a
              `const f = (...) =>` / `function` expression: the code is the declaration up to its
              matching closing brace (a scanner that skips strings, template literals, regex-free
              comments); the summary is the JSDoc text before its first @tag.

Summaries: whitespace collapsed, at most MAX_SUMMARY_CHARS (cut after a sentence when possible),
at least MIN_SUMMARY_CHARS, and not a bare restatement like "Constructor." or a licence header.
Code: at most MAX_CODE_CHARS, at least 2 lines. Exact duplicate (code, summary) pairs are dropped.
The training format (the engine's explain prompt, prompts.ts) is `{code}<|explain|>{summary}<|endoftext|>`.
"""
import argparse
import ast
import hashlib
import inspect
import json
import os
import re

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(RECIPE_DIR, "data")
SPLITS = ("train", "valid", "test")
MIN_SUMMARY_CHARS, MAX_SUMMARY_CHARS = 12, 240
MAX_CODE_CHARS = 1500
SKIP_SUMMARY = re.compile(r"^(constructor|creates an instance|todo|fixme|deprecated|private|internal|"
                          r"@|copyright|licensed|see |overrides?\b|inherit)", re.I)


def clean_summary(text):
    """First paragraph, whitespace collapsed, cut at a sentence end within MAX_SUMMARY_CHARS."""
    para = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    s = " ".join(para.split())
    if len(s) > MAX_SUMMARY_CHARS:
        cut = s[:MAX_SUMMARY_CHARS]
        end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
        s = cut[:end + 1] if end >= MIN_SUMMARY_CHARS else cut.rsplit(" ", 1)[0] + " ..."
    if len(s) < MIN_SUMMARY_CHARS or SKIP_SUMMARY.match(s) or not re.search(r"[A-Za-z]{3}", s):
        return None
    return s


# ---------------------------------------------------------------- Python

def python_pairs(text):
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return
    lines = text.splitlines(keepends=True)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        doc = ast.get_docstring(node, clean=False)
        if not doc or not node.body or not isinstance(node.body[0], ast.Expr):
            continue
        summary = clean_summary(inspect.cleandoc(doc))
        if summary is None:
            continue
        start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
        ds = node.body[0]
        indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
        # the definition without the docstring lines; dedented to column 0
        kept = lines[start:ds.lineno - 1] + lines[ds.end_lineno:node.end_lineno]
        if len(node.body) == 1:                     # docstring-only body: keep it valid Python
            kept.append(indent + "    ...\n")
        code = "".join(l[len(indent):] if l.startswith(indent) else l for l in kept).rstrip() + "\n"
        if code.count("\n") >= 2 and len(code) <= MAX_CODE_CHARS:
            yield node.name, code, summary


# ---------------------------------------------------------------- JavaScript / TypeScript

JSDOC = re.compile(r"/\*\*(?!\*)(.*?)\*/", re.S)
DECL = re.compile(
    r"(export\s+)?(default\s+)?(declare\s+)?(abstract\s+)?(async\s+)?"
    r"(function\s*\*?\s*(?P<fn>[A-Za-z_$][\w$]*)|class\s+(?P<cls>[A-Za-z_$][\w$]*)"
    r"|(const|let|var)\s+(?P<var>[A-Za-z_$][\w$]*)\s*(:[^=]+)?=\s*(async\s+)?(function\b|\([^)]*\)\s*(:[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)"
    r"|((public|private|protected|static|readonly|override|get|set|async)\s+)*(?P<meth>[A-Za-z_$][\w$]*)\s*(<[^>]*>)?\s*\()")


def match_brace(text, i):
    """Index after the `}` matching the first `{` at or after i, skipping strings, template
    literals and comments; None if unbalanced or a `;` ends the statement first."""
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'`":
            q, i = c, i + 1
            while i < n and text[i] != q:
                i += 2 if text[i] == "\\" else 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                return None
        elif text.startswith("/*", i):
            i = text.find("*/", i)
            if i < 0:
                return None
            i += 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
            if depth < 0:
                return None
        elif c == ";" and depth == 0:
            return None
        i += 1
    return None


def jsdoc_text(body):
    """The JSDoc's prose before the first @tag, with the leading `*`s removed."""
    lines = [re.sub(r"^\s*\*? ?", "", l) for l in body.splitlines()]
    prose = []
    for l in lines:
        if l.lstrip().startswith("@"):
            break
        prose.append(l)
    return "\n".join(prose)


def js_pairs(text):
    for m in JSDOC.finditer(text):
        after = m.end()
        nl = text.find("\n", after)
        if nl < 0:
            continue
        rest = text[nl + 1:]
        stripped = rest.lstrip(" \t")
        indent = rest[:len(rest) - len(stripped)]
        if "\n" in indent:
            continue                                # a blank line: the comment is not attached
        d = DECL.match(stripped)
        if not d:
            continue
        name = d.group("fn") or d.group("cls") or d.group("var") or d.group("meth")
        if name in ("if", "for", "while", "switch", "catch", "return", "function"):
            continue
        summary = clean_summary(jsdoc_text(m.group(1)))
        if summary is None:
            continue
        end = match_brace(stripped, 0)
        if end is None:
            continue
        lines = stripped[:end].split("\n")
        code = "\n".join([lines[0]] + [l[len(indent):] if l.startswith(indent) else l for l in lines[1:]]) + "\n"
        if code.count("\n") >= 2 and len(code) <= MAX_CODE_CHARS:
            yield name, code, summary


def pairs_of(doc):
    fn = python_pairs if doc["lang"] == "python" else js_pairs
    for name, code, summary in fn(doc["text"]):
        yield {"package": doc["package"], "path": doc["path"], "lang": doc["lang"], "name": name,
               "code": code, "summary": summary}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.path.join(DATA_DIR, "corpus"))
    ap.add_argument("--out", default=os.path.join(DATA_DIR, "explain"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seen = set()
    stats = {}
    for split in SPLITS:
        n, by_lang = 0, {}
        with open(os.path.join(args.corpus, f"{split}.jsonl"), encoding="utf-8") as f, \
                open(os.path.join(args.out, f"{split}.jsonl"), "w", encoding="utf-8") as out:
            for line in f:
                for p in pairs_of(json.loads(line)):
                    key = hashlib.sha256((p["code"] + "\0" + p["summary"]).encode()).digest()
                    if key in seen:
                        continue
                    seen.add(key)
                    out.write(json.dumps(p, ensure_ascii=False) + "\n")
                    n += 1
                    by_lang[p["lang"]] = by_lang.get(p["lang"], 0) + 1
        stats[split] = {"pairs": n, "by_lang": by_lang}
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
