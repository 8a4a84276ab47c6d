// Bundles Glassbox: the extension and the engine worker and CLI (CommonJS for Node, with `vscode`
// and onnxruntime-node's native binding left external), and one browser bundle per webview.
//   node esbuild.js            build once
//   node esbuild.js --watch    rebuild on change
//   node esbuild.js --production  minify, no source maps (for the .vsix)
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const nodeEntries = {
  extension: 'src/extension.ts',
  engineWorker: 'src/engine/worker/engineWorker.ts',
  // the workspace's snippet index, scanned and queried off the extension host's event loop
  contextWorker: 'src/engine/context/worker/contextWorker.ts',
  cli: 'src/cli/main.ts',
  // gpt-tokenizer's encodings are megabytes: kept out of extension.js, loaded in a worker on first use.
  tokenCountWorker: 'src/costs/tokenCountWorker.ts',
};

/** One bundle per folder in webview/ that has a main.ts. */
function webviewEntries() {
  const root = path.join(__dirname, 'webview');
  const entries = {};
  for (const name of fs.readdirSync(root)) {
    const main = path.join(root, name, 'main.ts');
    if (fs.existsSync(main)) entries[`webview/${name}`] = main;
  }
  return entries;
}

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
  outdir: 'dist',
};

async function main() {
  const existing = Object.fromEntries(Object.entries(nodeEntries).filter(([, file]) => fs.existsSync(file)));
  const contexts = [
    await esbuild.context({
      ...common,
      entryPoints: existing,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode', 'onnxruntime-node'],
    }),
  ];
  const views = webviewEntries();
  if (Object.keys(views).length > 0) {
    contexts.push(
      await esbuild.context({
        ...common,
        entryPoints: views,
        platform: 'browser',
        target: 'es2022',
        format: 'iife',
        loader: { '.css': 'text' },
      }),
    );
  }
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
