"""Training corpus for Glassbox: permissively licensed Python, TypeScript and JavaScript.

Run everything (fetch what is not cached, build the splits, check them):

    /usr/bin/python3 models/recipe/corpus.py

or one stage at a time:

    corpus.py --resolve   pin versions for entries in corpus_packages.json that lack one (npm view, apt-cache)
    corpus.py --fetch     npm pack / apt-get download the pinned versions into data/npm, data/deb (cached)
    corpus.py --build     filter, deduplicate, cap, split; write data/corpus/{train,valid,test}.jsonl
                          and corpus_manifest.json
    corpus.py --check     splits have disjoint package sets, test >= 2 MB; print a summary

Sources: the installed CPython 3.11 standard library (PSF-2.0), Debian bookworm python3-* packages and
npm packages, each kept only under MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC (or PSF-2.0 for
the stdlib). Stdlib only, single-threaded: about 6 min from a warm cache (the first --resolve and
--fetch take about 45 min), so run it under `nice -n 10` on shared machines. See CORPUS.md for the
filters, dedup and split rules and the measured sizes.
"""

import argparse, bisect, hashlib, io, json, re, subprocess, sys, tarfile, time, zlib
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES_JSON = HERE / "corpus_packages.json"     # pinned inputs (committed)
MANIFEST_JSON = HERE / "corpus_manifest.json"     # measured outputs (committed)
DATA = HERE / "data"
NPM_DIR, DEB_DIR, OUT_DIR = DATA / "npm", DATA / "deb", DATA / "corpus"
SPLITS = ("train", "valid", "test")
LANGS = ("python", "typescript", "javascript")

# the allowed licences (MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC; PSF-2.0 for the stdlib), by
# the spellings package.json and debian/copyright use; anything else is not allowed
LICENCE_ALIASES = {"mit": "MIT", "expat": "MIT", "apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0",
                   "apache 2.0": "Apache-2.0", "apache2": "Apache-2.0", "bsd-2-clause": "BSD-2-Clause",
                   "bsd-3-clause": "BSD-3-Clause", "isc": "ISC", "psf-2.0": "PSF-2.0", "psf-2": "PSF-2.0"}

# --- filters (see CORPUS.md) ---
MIN_BYTES, MAX_BYTES = 100, 500_000
MAX_LINE, MAX_MEAN_LINE = 1000, 200           # chars
MIN_WHITESPACE, MAX_DIGITS = 0.06, 0.40        # fractions of all chars
MAX_NON_ASCII = 0.30                           # fraction of chars: word lists, translations
MINIFIED_LINE, MINIFIED_LINE_WHITESPACE = 200, 0.05   # chars, fraction: a long line of statements
KIND_CAP = {"python": 125_000, "typescript": 200_000, "declaration": 75_000, "javascript": 125_000}
                                               # bytes kept per package and kind after dedup
EXT_LANG = {".py": "python", ".pyi": "python", ".ts": "typescript", ".tsx": "typescript",
            ".mts": "typescript", ".cts": "typescript", ".js": "javascript", ".jsx": "javascript",
            ".mjs": "javascript", ".cjs": "javascript"}
DECLARATION = re.compile(r"\.d\.[mc]?ts$")
SKIP_DIRS = {"node_modules", "vendor", "vendors", "_vendor", "third_party", "third-party", "thirdparty",
             "fixtures", "__fixtures__", "__snapshots__", "locale", "locales", "__pycache__"}
STDLIB_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "lib-dynload"}
BUNDLE_DIRS = {"dist", "build", "bundle", "bundles", "umd", "cdn", "browser", "min",
               "fesm2015", "fesm2020", "fesm2022"}
MINIFIED_NAME = re.compile(r"[.-]min\.[mc]?js$|\.bundle\.[mc]?js$|\.map$")
GENERATED_HEAD = re.compile(r"^\s*(#|//|/\*+|\*|\"\"\"|''\')(.*\W)?(@generated|do not edit|auto-?generated|"
                            r"automatically generated|generated (by|from|with)|this file (is|was) generated)",
                            re.I | re.M)     # in a comment line near the top
BUNDLE_MARKERS = ("__webpack_require__", "/******/", "__generator(", "System.register(")
BUNDLED_MODULES = re.compile(r"^//#region (\.\./)*src/|^// src/", re.M)   # rolldown / esbuild module banners
COMPILED_JS = re.compile(r"Object\.defineProperty\(exports, [\"']__esModule|\(this && this\.__|"
                         r"_interopRequireDefault\(|__importDefault\(|require\([\"']tslib[\"']\)")
UMD_MARKER = re.compile(r"typeof define ?=== ?['\"]function['\"] ?&& ?define\.amd")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
SOURCE_MAP_LINE = re.compile(r"\n?(//# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^\n]*\*/)\s*$")

# --- near-dedup: one-permutation MinHash over token 5-shingles, LSH banding ---
TOKEN = re.compile(r"\w+|[^\w\s]")
NUM_BINS, BANDS, ROWS = 128, 16, 8             # BANDS * ROWS == NUM_BINS; threshold ~ (1/16)^(1/8) = 0.71
BIN_BITS, M64, NEAR_JACCARD = 7, (1 << 64) - 1, 0.8
BIN_STARTS = [b << (64 - BIN_BITS) for b in range(NUM_BINS + 1)]

# --- splits: families in sha256 order fill test, then valid, up to per-language quotas ---
TEST_QUOTA, VALID_QUOTA = 1_000_000, 850_000   # bytes per language (families' primary language)
EVAL_MAX_FAMILY = 400_000                      # larger families always train, so eval sets stay diverse


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def normalise_licence(expr):
    """SPDX-ish expression -> allowed canonical licence string, or None if no allowed reading."""
    if isinstance(expr, dict):
        expr = expr.get("type", "")
    if isinstance(expr, list):                 # old "licenses": [{type}, ...] means any of them
        expr = " OR ".join(e.get("type", "") if isinstance(e, dict) else str(e) for e in expr)
    expr = str(expr or "").strip().strip("()")
    for alternative in re.split(r"\s+or\s+|/", expr, flags=re.I):
        parts = [LICENCE_ALIASES.get(p.strip(" ()").lower()) for p in re.split(r"\s+and\s+", alternative, flags=re.I)]
        if parts and all(parts):
            return " AND ".join(parts)
    return None


def run(cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


# ---------------------------------------------------------------- resolve / fetch

def resolve(spec):
    """Pin a version (and registry licence) for every entry that has none."""
    for entry in spec["npm"]:
        if "version" in entry or "excluded" in entry:
            continue
        try:
            info = json.loads(run(["npm", "view", f"{entry['name']}@{entry.get('spec', 'latest')}",
                                   "version", "license", "--json"]))
        except (subprocess.CalledProcessError, json.JSONDecodeError) as e:
            entry["excluded"] = "not found on npm"
            log("npm view failed", entry["name"], str(e)[:200])
            continue
        info = info[-1] if isinstance(info, list) else info    # a range lists every match, oldest first
        info = {"version": info} if isinstance(info, str) else info    # no licence field at all
        entry["version"] = info["version"]
        licence = normalise_licence(info.get("license"))
        entry["licence"] = licence or info.get("license")
        if licence is None and info.get("license"):   # no field: let --build read package.json "licenses"
            entry["excluded"] = f"licence {info.get('license')!r}"
        log("npm", entry["name"], entry["version"], entry["licence"])
    for entry in spec["debian"]:
        if "version" not in entry:
            show = run(["apt-cache", "show", "--no-all-versions", entry["name"]])
            entry["version"] = re.search(r"^Version: (\S+)", show, re.M).group(1)
            log("deb", entry["name"], entry["version"])
    std = spec["stdlib"]
    std.setdefault("version", run(["dpkg-query", "-W", "-f=${Version}", std["debian_package"]]))


def npm_tarball(entry):
    return NPM_DIR / f"{entry['name'].lstrip('@').replace('/', '-')}-{entry['version']}.tgz"


def deb_file(entry):
    hits = sorted(DEB_DIR.glob(f"{entry['name']}_{entry['version'].replace(':', '%3a')}_*.deb"))
    return hits[0] if hits else None


def fetch(spec):
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    DEB_DIR.mkdir(parents=True, exist_ok=True)
    todo = [e for e in spec["npm"] if "excluded" not in e and not npm_tarball(e).exists()]
    for i in range(0, len(todo), 25):
        batch = todo[i:i + 25]
        specs = [f"{e['name']}@{e['version']}" for e in batch]
        log(f"npm pack {i + len(batch)}/{len(todo)}")
        try:
            run(["npm", "pack", *specs, "--ignore-scripts", "--pack-destination", str(NPM_DIR)], cwd=NPM_DIR)
        except subprocess.CalledProcessError:
            for s in specs:                    # one bad spec fails the batch; retry one by one
                try:
                    run(["npm", "pack", s, "--ignore-scripts", "--pack-destination", str(NPM_DIR)], cwd=NPM_DIR)
                except subprocess.CalledProcessError as e:
                    log("npm pack failed", s, e.stderr[-300:])
    for e in spec["debian"]:
        if "excluded" not in e and deb_file(e) is None:
            log("apt-get download", e["name"], e["version"])
            try:
                run(["apt-get", "download", f"{e['name']}={e['version']}"], cwd=DEB_DIR)
            except subprocess.CalledProcessError as err:
                log("apt-get download failed (version gone from the mirror?)", e["name"], err.stderr[-300:])


# ---------------------------------------------------------------- sources -> (package, files)

def read_tar(tf, strip):
    """{relative path: bytes} for regular files, with `strip(name)` giving the path or None."""
    files = {}
    for m in tf.getmembers():
        if m.isfile():
            rel = strip(m.name)
            if rel:
                files[rel] = tf.extractfile(m).read()
    return files


def stdlib_packages(std):
    installed = run(["dpkg-query", "-W", "-f=${Version}", std["debian_package"]])
    if installed != std["version"]:
        log(f"warning: {std['debian_package']} {installed} installed, {std['version']} pinned")
    root = Path(std["root"])
    groups = defaultdict(dict)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and p.suffix in (".py", ".pyi") \
                and not STDLIB_SKIP_DIRS & set(rel.parts[:-1]) and not rel.parts[0].startswith("config-"):
            groups[rel.parts[0].removesuffix(".py")][rel.as_posix()] = p.read_bytes()
    for top in sorted(groups):
        yield {"name": f"stdlib/{top}", "version": std["version"], "licence": std["licence"],
               "source": "stdlib"}, groups[top]


def dep5_licence(copyright_text):
    """Licence of the `Files: *` paragraph of a machine-readable debian/copyright, or None."""
    for para in re.split(r"\n\s*\n", copyright_text):
        if re.match(r"Files:\s*\*\s*$", para, re.M):
            m = re.search(r"^License:\s*(.+)$", para, re.M)
            return m.group(1).strip() if m else None
    return None


LICENCE_TEXT = {"MIT": r"Permission is hereby granted, free of charge",
                "BSD-3-Clause": r"Neither the name|names? of (its|the) contributors may|name of the author may not",
                "BSD-2-Clause": r"Redistribution and use in source and binary forms|Redistributions of source code must",
                "Apache-2.0": r"Apache License,? Version 2\.0|common-licenses/Apache-2\.0",
                "ISC": r"Permission to use, copy, modify, and(/or)? distribute"}


def debian_licence(expected, copyright_text):
    """(licence, stated name) for a .deb: the DEP-5 `Files: *` licence when it names an allowed one, else
    `expected` when the licence text (of that paragraph, or of the whole file if it is not DEP-5)
    matches it; (None, stated) rejects the package."""
    stated = dep5_licence(copyright_text)
    if stated and normalise_licence(stated):
        return normalise_licence(stated), stated
    body = copyright_text if stated is None else "\n".join(
        p for p in re.split(r"\n\s*\n", copyright_text)
        if re.match(r"Files:\s*\*\s*$", p, re.M) or p.startswith(f"License: {stated}"))
    if expected == "BSD-2-Clause" and re.search(LICENCE_TEXT["BSD-3-Clause"], body):
        return None, stated
    return (expected, stated) if re.search(LICENCE_TEXT[expected], body) else (None, stated)


def debian_packages(entries):
    for e in sorted(entries, key=lambda e: e["name"]):
        if "excluded" in e:
            yield e, {}
            continue
        path = deb_file(e)
        if path is None:
            log("missing", e["name"], e["version"], "(run --fetch)")
            continue
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(path)], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
            prefix = "./usr/lib/python3/dist-packages/"
            files = read_tar(tf, lambda n: n[len(prefix):] if n.startswith(prefix) else None)
            doc = read_tar(tf, lambda n: "copyright" if n == f"./usr/share/doc/{e['name']}/copyright" else None)
        licence, stated = debian_licence(e["licence"], doc.get("copyright", b"").decode("utf-8", "replace"))
        if licence is None:
            why = f"Files: * is {stated!r}" if stated else "not machine-readable"
            yield {**e, "excluded": f"debian/copyright ({why}) does not match {e['licence']}"}, {}
            continue
        yield {"name": e["name"], "version": e["version"], "licence": licence, "source": "debian"}, files


def npm_packages(entries):
    for e in sorted(entries, key=lambda e: e["name"]):
        if "excluded" in e:
            yield e, {}
            continue
        path = npm_tarball(e)
        if not path.exists():
            log("missing", path.name, "(run --fetch)")
            continue
        with tarfile.open(path) as tf:
            files = read_tar(tf, lambda n: n.split("/", 1)[1] if "/" in n else None)
        meta = json.loads(files.get("package.json", b"{}"))
        stated = meta.get("license", meta.get("licenses"))
        licence = normalise_licence(stated)
        if licence is None:
            yield {**e, "excluded": f"package.json licence {stated!r}"}, {}
            continue
        yield {"name": e["name"], "version": e["version"], "licence": licence, "source": "npm"}, files


# ---------------------------------------------------------------- filters

def lang_of(path):
    for ext in (".d.ts", ".d.mts", ".d.cts"):
        if path.endswith(ext):
            return "typescript"
    return EXT_LANG.get(Path(path).suffix)


def kind_of(path):
    """python | typescript | declaration | javascript: the unit that KIND_CAP limits per package."""
    return "declaration" if DECLARATION.search(path) else lang_of(path)


def path_reason(path, source):
    """Why a path is not a candidate ('' = candidate, None = not source code at all)."""
    parts = path.split("/")
    if MINIFIED_NAME.search(path):
        return "minified_or_map_name"
    wanted = ("python",) if source != "npm" else ("typescript", "javascript")
    if lang_of(path) not in wanted:
        return None
    if SKIP_DIRS & set(parts[:-1]):
        return "vendored_fixture_or_locale_dir"
    return ""


def is_minified(line):
    """Many statements and almost no whitespace; long regex literals have the second but not the first."""
    return len(line) >= MINIFIED_LINE and line.count(";") + line.count("){") >= 5 and \
        line.count(" ") + line.count("\t") < MINIFIED_LINE_WHITESPACE * len(line)


def clean(raw, path, source):
    """(text, '') for a kept file, or (None, reason)."""
    if len(raw) > MAX_BYTES:
        return None, "too_large"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not_utf8"
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = SOURCE_MAP_LINE.sub("\n", text)
    if len(text.encode()) < MIN_BYTES:
        return None, "too_small"
    lines = text.split("\n")
    if max(map(len, lines)) > MAX_LINE or len(text) / len(lines) > MAX_MEAN_LINE:
        return None, "long_lines"
    if sum(text.count(c) for c in " \t\n") / len(text) < MIN_WHITESPACE:
        return None, "low_whitespace"
    if sum(text.count(d) for d in "0123456789") / len(text) > MAX_DIGITS:
        return None, "numeric_data"
    if len(NON_ASCII.findall(text)) / len(text) > MAX_NON_ASCII:
        return None, "non_ascii_text"
    if any(is_minified(l) for l in lines):
        return None, "minified_line"
    if GENERATED_HEAD.search(text[:1000]):
        return None, "generated_header"
    if any(m in text for m in BUNDLE_MARKERS) or len(BUNDLED_MODULES.findall(text)) >= 2:
        return None, "bundle_marker"
    if source == "npm" and BUNDLE_DIRS & set(path.split("/")[:-1]) and (len(lines) > 4000 or UMD_MARKER.search(text)):
        return None, "dist_bundle"
    if lang_of(path) == "javascript" and COMPILED_JS.search(text):
        return None, "compiled_js"
    return text, ""


def ships_ts_sources(files):
    """True when a package ships its TypeScript implementation, so its .js/.d.ts are build output:
    a quarter of its JS size in .ts, or five .ts files under src*/ (test typings don't count)."""
    impl = [p for p in files if lang_of(p) == "typescript" and not DECLARATION.search(p)]
    in_src = [p for p in impl if any(d.startswith("src") for d in p.split("/")[:-1])]
    js = sum(len(b) for p, b in files.items() if lang_of(p) == "javascript")
    return len(in_src) >= 5 or 0 < sum(len(files[p]) for p in impl) >= 0.25 * js


# ---------------------------------------------------------------- near-dedup

def minhash(text):
    """128-bin one-permutation MinHash of the token 5-shingle set, densified by rotation."""
    ids = list(map(zlib.crc32, map(str.encode, TOKEN.findall(text)))) + [0] * 4
    shingles = sorted({h & M64 for h in map(hash, zip(ids, ids[1:], ids[2:], ids[3:], ids[4:]))})
    sig = [None] * NUM_BINS
    for b in range(NUM_BINS):
        i = bisect.bisect_left(shingles, BIN_STARTS[b])
        if i < len(shingles) and shingles[i] < BIN_STARTS[b + 1]:
            sig[b] = shingles[i] - BIN_STARTS[b]
    for b in range(NUM_BINS):
        j = 1
        while sig[b] is None and j < NUM_BINS:
            src = sig[(b + j) % NUM_BINS]
            if src is not None and src < (1 << 57):         # only original values, not densified ones
                sig[b] = src + (j << 57)
            j += 1
    return tuple(sig)


class LshIndex:
    def __init__(self):
        self.buckets, self.sigs = defaultdict(list), []

    def keys(self, sig):
        return [hash((band,) + sig[band * ROWS:(band + 1) * ROWS]) for band in range(BANDS)]

    def near(self, sig):
        seen = set()
        for k in self.keys(sig):
            for i in self.buckets.get(k, ()):
                if i not in seen:
                    seen.add(i)
                    if sum(a == b for a, b in zip(sig, self.sigs[i])) >= NEAR_JACCARD * NUM_BINS:
                        return True
        return False

    def add(self, sig):
        self.sigs.append(sig)
        for k in self.keys(sig):
            self.buckets[k].append(len(self.sigs) - 1)


# ---------------------------------------------------------------- build

def family(name):
    """Related packages share a split: scope, @types/x with x, prefix before the first - or ."""
    if name.startswith("stdlib/"):
        return name
    name = name.removeprefix("python3-")
    if name.startswith("@types/"):
        inner = name[len("@types/"):]
        name = "@" + inner.split("__")[0] if "__" in inner else inner
    if name.startswith("@"):
        return name.split("/")[0]
    return re.split(r"[-.]", name)[0] or name


def assign_splits(packages):
    fams = defaultdict(list)
    for p in packages:
        fams[family(p["name"])].append(p)
    have = {s: Counter() for s in SPLITS}
    split_of = {}
    for fam in sorted(fams, key=lambda f: hashlib.sha256(f.encode()).hexdigest()):
        by_lang = Counter()
        for p in fams[fam]:
            by_lang.update(p["by_lang"])
        total, primary = sum(by_lang.values()), max(LANGS, key=lambda l: (by_lang[l], l))
        split = "train"
        if 0 < total <= EVAL_MAX_FAMILY:
            if have["test"][primary] < TEST_QUOTA:
                split = "test"
            elif have["valid"][primary] < VALID_QUOTA:
                split = "valid"
        have[split].update(by_lang)
        for p in fams[fam]:
            split_of[p["name"]] = split
    return split_of


def build(spec):
    t0 = time.time()
    dropped, dedup, index, exact = Counter(), Counter(), LshIndex(), set()
    packages, excluded, empty, kept = [], [], [], {}
    sources = [stdlib_packages(spec["stdlib"]), debian_packages(spec["debian"]), npm_packages(spec["npm"])]
    for pkg, files in (x for src in sources for x in src):
        if "excluded" in pkg:
            excluded.append({k: pkg[k] for k in ("name", "version", "excluded") if k in pkg})
            log("excluded", pkg["name"], pkg["excluded"])
            continue
        ts_src = pkg["source"] == "npm" and ships_ts_sources(files)
        survivors, local, local_exact = [], LshIndex(), set()
        for path in sorted(files):
            reason = path_reason(path, pkg["source"])
            if reason is None:
                continue
            if not reason and ts_src and (lang_of(path) == "javascript" or DECLARATION.search(path)):
                reason = "compiled_output"
            text = None
            if not reason:
                text, reason = clean(files[path], path, pkg["source"])
            if reason:
                dropped[reason] += 1
                continue
            digest = hashlib.sha256(text.encode()).digest()
            if digest in exact or digest in local_exact:
                dedup["exact"] += 1
                continue
            sig = minhash(text)
            if index.near(sig) or local.near(sig):
                dedup["near"] += 1
                continue
            local_exact.add(digest)
            local.add(sig)
            survivors.append((path, text, digest, sig))
        # cap: files in sha256(path) order until the package holds KIND_CAP bytes of that kind;
        # the first file of a kind always fits, so a big single-file module (bottle.py) is not lost
        chosen, held = [], Counter()
        for s in sorted(survivors, key=lambda s: hashlib.sha256(s[0].encode()).digest()):
            n, kind = len(s[1].encode()), kind_of(s[0])
            if held[kind] == 0 or held[kind] + n <= KIND_CAP[kind]:
                chosen.append(s)
                held[kind] += n
            else:
                dropped["package_cap"] += 1
        chosen.sort()
        size = sum(held.values())
        for _, _, digest, sig in chosen:
            exact.add(digest)
            index.add(sig)
        if not chosen:
            empty.append(pkg["name"])          # e.g. @types stubs, packages that ship only bundles
            continue
        by_lang = Counter()
        for path, text, _, _ in chosen:
            by_lang[lang_of(path)] += len(text.encode())
        record = {k: pkg[k] for k in ("name", "version", "licence", "source")}
        packages.append({**record, "files": len(chosen), "bytes": size, "by_lang": dict(by_lang)})
        kept[pkg["name"]] = [(path, text) for path, text, _, _ in chosen]
        log(f"{time.time() - t0:6.0f}s {pkg['name']}: {len(chosen)} files, {size / 1e3:.0f} KB")

    split_of = assign_splits(packages)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    totals = {s: {"packages": 0, "files": 0, "bytes": 0, "by_lang": {l: {"files": 0, "bytes": 0} for l in LANGS}}
              for s in SPLITS}
    digests = {}
    for split in SPLITS:
        out = OUT_DIR / f"{split}.jsonl"
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            for p in packages:
                if split_of[p["name"]] != split:
                    continue
                p["split"] = split
                totals[split]["packages"] += 1
                for path, text in kept[p["name"]]:
                    lang, n = lang_of(path), len(text.encode())
                    f.write(json.dumps({"package": p["name"], "version": p["version"], "licence": p["licence"],
                                        "path": path, "lang": lang, "text": text}, ensure_ascii=False) + "\n")
                    for t in (totals[split], totals[split]["by_lang"][lang]):
                        t["files"] += 1
                        t["bytes"] += n
        digests[split] = hashlib.sha256(out.read_bytes()).hexdigest()
    by_lang = {l: {k: sum(totals[s]["by_lang"][l][k] for s in SPLITS) for k in ("files", "bytes")} for l in LANGS}
    manifest = {
        "format": "glassbox-corpus-manifest/1",
        "filters": {"min_bytes": MIN_BYTES, "max_bytes": MAX_BYTES, "max_line": MAX_LINE,
                    "max_mean_line": MAX_MEAN_LINE, "min_whitespace": MIN_WHITESPACE, "max_digits": MAX_DIGITS,
                    "package_cap_bytes": KIND_CAP, "near_dup_jaccard": NEAR_JACCARD,
                    "minhash": f"{NUM_BINS} bins, {BANDS} bands x {ROWS} rows, token 5-shingles"},
        "totals": {"packages": len(packages), "files": sum(t["files"] for t in totals.values()),
                   "bytes": sum(t["bytes"] for t in totals.values()), "by_lang": by_lang},
        "splits": totals,
        "sha256": digests,
        "dropped": dict(sorted(dropped.items())),
        "dedup": {"exact": dedup["exact"], "near": dedup["near"]},
        "packages": [{k: p[k] for k in ("name", "version", "licence", "split", "files", "bytes")} for p in packages],
        "excluded_packages": excluded,
        "packages_without_files": empty,
    }
    MANIFEST_JSON.write_text(json.dumps(manifest, indent=1) + "\n")
    log(f"build took {time.time() - t0:.0f}s")


# ---------------------------------------------------------------- check

def check():
    manifest = json.loads(MANIFEST_JSON.read_text())
    seen, sizes = {}, Counter()
    for split in SPLITS:
        names = set()
        with open(OUT_DIR / f"{split}.jsonl", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                assert r["lang"] in LANGS and r["licence"], r["path"]
                names.add(r["package"])
                sizes[split] += len(r["text"].encode())
        for n in names:
            assert seen.setdefault(n, split) == split, f"{n} is in {seen[n]} and {split}"
        fams = {family(n) for n in names}
        for other, other_names in ((s, {m for m, t in seen.items() if t == s}) for s in SPLITS if s != split):
            assert not fams & {family(m) for m in other_names}, f"family shared by {split} and {other}"
        assert sizes[split] == manifest["splits"][split]["bytes"], split
    assert sizes["test"] >= 2_000_000, f"test split is {sizes['test']} bytes"
    print(f"{'split':6} {'packages':>8} {'files':>7} {'MB':>7}   " + "  ".join(f"{l:>10}" for l in LANGS))
    for s in SPLITS:
        t = manifest["splits"][s]
        print(f"{s:6} {t['packages']:8} {t['files']:7} {t['bytes'] / 1e6:7.2f}   "
              + "  ".join(f"{t['by_lang'][l]['bytes'] / 1e6:8.2f}MB" for l in LANGS))
    print("dropped:", manifest["dropped"], "dedup:", manifest["dedup"])
    print(f"excluded packages: {len(manifest['excluded_packages'])}; check passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for stage in ("resolve", "fetch", "build", "check"):
        ap.add_argument(f"--{stage}", action="store_true")
    args = ap.parse_args()
    everything = not (args.resolve or args.fetch or args.build or args.check)
    spec = json.loads(PACKAGES_JSON.read_text())
    unpinned = any("version" not in e and "excluded" not in e for e in spec["npm"] + spec["debian"] + [spec["stdlib"]])
    if args.resolve or (everything and unpinned):
        try:
            resolve(spec)
        finally:                                # keep what was pinned even if a lookup crashes
            PACKAGES_JSON.write_text(json.dumps(spec, indent=1) + "\n")
    if args.fetch or everything:
        fetch(spec)
    if args.build or everything:
        build(spec)
    if args.check or everything:
        check()


if __name__ == "__main__":
    main()
