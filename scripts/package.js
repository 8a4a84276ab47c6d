#!/usr/bin/env node
// Builds a platform-specific .vsix: the production bundles, the embedded models, and only the
// target's onnxruntime-node binaries (each platform's binaries are 25–86 MB; one package with all
// of them would be about 300 MB unpacked).
//   node scripts/package.js                       target = this machine (e.g. linux-x64)
//   node scripts/package.js --target darwin-arm64 any target onnxruntime-node ships binaries for
//   node scripts/package.js --universal           all binaries, no target (large)
// Writes glassbox-<target>-<version>.vsix (glassbox-<version>.vsix when universal) in the repo root.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
/** A platform package's ceiling (issue 31): the model, the bundles and one platform's runtime. */
const MAX_PLATFORM_BYTES = 25e6;

/** vsce target → onnxruntime-node binary folder (`<platform>/<arch>`) that exists in 1.30. */
const ORT_FOLDERS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

function parseArgs(argv) {
  const args = { target: `${process.platform}-${process.arch}`, universal: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') args.target = argv[++i];
    else if (argv[i].startsWith('--target=')) args.target = argv[i].slice('--target='.length);
    else if (argv[i] === '--universal') args.universal = true;
    else throw new Error(`unknown argument ${argv[i]} (expected --target <target> or --universal)`);
  }
  if (!args.universal && !ORT_FOLDERS[args.target]) {
    throw new Error(
      `no onnxruntime-node binaries for target "${args.target}"; ` +
        `targets with binaries: ${Object.keys(ORT_FOLDERS).join(', ')}`,
    );
  }
  return args;
}

/** The embedded model's default variant, as its config.json names it (onnx/model_q4.onnx, …). */
function defaultVariant() {
  const dir = path.join(root, 'models', 'glassbox-code');
  const dtype =
    JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))['transformers.js_config']?.dtype ?? 'fp32';
  const suffix = { fp32: '', q8: '_quantized', int8: '_quantized', q4: '_q4', fp16: '_fp16' }[dtype];
  const file = `model${suffix ?? ''}.onnx`;
  if (suffix === undefined || !fs.existsSync(path.join(dir, 'onnx', file)))
    throw new Error(`models/glassbox-code: no onnx/${file} for dtype ${dtype}`);
  return file;
}

/** .vscodeignore as it is (universal), or for a target with the other platforms' binaries dropped. */
function ignoreFileFor(target) {
  const keep = target ? `!${ORT_BIN}/${ORT_FOLDERS[target]}/` : `!${ORT_BIN}/`;
  const lines = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
  const kept = lines.filter((line) => !line.startsWith(`!${ORT_BIN}/`) || line.startsWith(keep));
  if (!kept.some((line) => line.startsWith(keep))) {
    throw new Error(`.vscodeignore has no "${keep}*" line to keep the ${target} binaries`);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-package-')), 'vscodeignore');
  fs.writeFileSync(file, kept.join('\n'));
  return file;
}

function vsce(args) {
  const bin = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  return execFileSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Fails when the file list lacks what the extension needs at run time, or has what it must not ship. */
function checkFiles(files, target) {
  const required = [
    'package.json',
    'dist/extension.js',
    'dist/engineWorker.js',
    'dist/contextWorker.js',
    'models/glassbox-code/config.json',
    'models/glassbox-code/copy_cache.json',
    `models/glassbox-code/onnx/${defaultVariant()}`,
    'node_modules/onnxruntime-common/dist/cjs/package.json',
  ];
  const ortFolders = target ? [ORT_FOLDERS[target]] : Object.values(ORT_FOLDERS);
  for (const folder of ortFolders) required.push(`${ORT_BIN}/${folder}/onnxruntime_binding.node`);
  const missing = required.filter((f) => !files.includes(f));
  const forbidden = files.filter(
    (f) =>
      /^(src|test|webview|models\/recipe|models\/test-tiny|out|bench)\//.test(f) ||
      f.endsWith('.map') ||
      f === 'dist/cli.js' ||
      f === 'CONTRIBUTING.md' ||
      // a byte-identical copy of libonnxruntime.1.dylib, the name the binding loads
      f.endsWith('/libonnxruntime.1.30.0.dylib') ||
      // the DirectML execution provider's (Glassbox runs on the CPU provider)
      /\/(DirectML|dxcompiler|dxil)\.dll$/.test(f) ||
      (/^models\/glassbox-code\/onnx\//.test(f) && f !== `models/glassbox-code/onnx/${defaultVariant()}`),
  );
  if (missing.length > 0 || forbidden.length > 0) {
    throw new Error(
      (missing.length ? `missing from the package: ${missing.join(', ')}\n` : '') +
        (forbidden.length ? `must not be packaged: ${forbidden.slice(0, 10).join(', ')}\n` : '') +
        "Fix the allow-list in .vscodeignore (the model line must name the variant config.json's dtype picks).",
    );
  }
}

/** The files the package for `target` would hold, from the current dist/ (no build, no package). */
function listFiles(target) {
  return vsce(['ls', '--ignoreFile', ignoreFileFor(target)])
    .split('\n')
    .filter(Boolean);
}

function main() {
  if (process.argv.includes('--list')) {
    process.stdout.write(listFiles(`${process.platform}-${process.arch}`).join('\n') + '\n');
    return;
  }
  const { target, universal } = parseArgs(process.argv.slice(2));
  const { version, repository } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const ignoreArgs = ['--ignoreFile', ignoreFileFor(universal ? undefined : target)];
  const out = universal ? `glassbox-${version}.vsix` : `glassbox-${target}-${version}.vsix`;
  const targetArgs = universal ? [] : ['--target', target];
  // vsce runs vscode:prepublish (the production bundles) first, and reads allowMissingRepository
  // from package.json's "vsce" field. It rewrites the README's relative links and images against
  // package.json's `repository`, and refuses them without one. There is no public repository yet:
  // until then they stay relative. Adding `repository` to package.json is the one line that makes
  // them absolute, here and in a plain `vsce package`.
  const linkArgs = repository ? [] : ['--no-rewrite-relative-links'];
  process.stdout.write(vsce(['package', ...targetArgs, ...ignoreArgs, ...linkArgs, '--out', out]));
  const files = vsce(['ls', ...ignoreArgs])
    .split('\n')
    .filter(Boolean);
  try {
    checkFiles(files, universal ? undefined : target);
    const bytes = fs.statSync(path.join(root, out)).size;
    if (!universal && bytes > MAX_PLATFORM_BYTES) {
      throw new Error(
        `${out} is ${(bytes / 1e6).toFixed(1)} MB, over the ${MAX_PLATFORM_BYTES / 1e6} MB a platform package may take: ` +
          'see what grew with `node scripts/package.js --list` and keep it out in .vscodeignore',
      );
    }
    console.log(`${out}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
  } catch (err) {
    fs.rmSync(path.join(root, out), { force: true });
    throw err;
  }
}

try {
  main();
} catch (err) {
  console.error(`package: ${err.message}`);
  process.exit(1);
}
