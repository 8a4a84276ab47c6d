#!/usr/bin/env node
// `npm start`: opens VS Code with Glassbox and a sample workspace.
//  - With a desktop VS Code on PATH (`code`): runs it with --extensionDevelopmentPath.
//  - Otherwise: packages the extension, installs it into the local code-server
//    (.e2e/code-server, installed by test/e2e/setup.sh) and serves VS Code on
//    http://127.0.0.1:PORT (PORT env, default 8080). Ctrl+C stops it.
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const sample = path.join(root, 'test', 'e2e', 'workspace');
const state = path.join(root, '.e2e', 'start');
const codeServer = path.join(root, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');

/** The path of `cmd` on PATH (on Windows also cmd.cmd / cmd.exe, as PATHEXT lists), or undefined. No shell needed. */
function onPath(cmd) {
  const exts =
    process.platform === 'win32'
      ? (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';').map((e) => e.toLowerCase())
      : [''];
  for (const dir of (process.env.PATH || '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = path.join(dir, cmd + ext);
      try {
        if (fs.statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function run(cmd, args) {
  // a .cmd (code.cmd on Windows) runs only through the shell
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: /\.(cmd|bat)$/i.test(cmd) });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const code = onPath('code');
if (code && !process.env.GLASSBOX_FORCE_CODE_SERVER) {
  console.log('Opening desktop VS Code with Glassbox loaded from this folder…');
  run(code, [`--extensionDevelopmentPath=${root}`, sample]);
  process.exit(0);
}

if (!fs.existsSync(codeServer)) {
  if (process.getuid && process.getuid() === 0) {
    console.log('No desktop VS Code found; installing code-server (VS Code in the browser) for this project…');
    run('bash', [path.join(root, 'test', 'e2e', 'setup.sh')]);
  } else {
    console.error(
      'No desktop VS Code (`code`) on PATH and no local code-server.\nInstall code-server with:  sudo bash test/e2e/setup.sh   then run npm start again.',
    );
    process.exit(1);
  }
}

console.log('Packaging Glassbox…');
run('npm', ['run', '--silent', 'package']);
const vsix = fs
  .readdirSync(root)
  .filter((f) => /^glassbox-.*\.vsix$/.test(f))
  .map((f) => path.join(root, f))
  .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];

const userData = path.join(state, 'user-data');
const extensions = path.join(state, 'extensions');
const workspace = path.join(state, 'workspace');
fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
if (!fs.existsSync(workspace)) fs.cpSync(sample, workspace, { recursive: true });
const settingsFile = path.join(userData, 'User', 'settings.json');
if (!fs.existsSync(settingsFile))
  fs.writeFileSync(
    settingsFile,
    JSON.stringify({ 'security.workspace.trust.enabled': false, 'workbench.startupEditor': 'none' }, null, 2),
  );

const common = ['--extensions-dir', extensions, '--user-data-dir', userData];
execFileSync(codeServer, [...common, '--install-extension', vsix, '--force'], { stdio: 'inherit' });

const port = process.env.PORT || '8080';
const args = [
  ...common,
  '--bind-addr',
  `127.0.0.1:${port}`,
  '--auth',
  'none',
  '--disable-telemetry',
  '--disable-update-check',
  workspace,
];
const server = spawn(codeServer, args, {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, XDG_CONFIG_HOME: path.join(state, 'config') },
});
let announced = false;
server.stdout.on('data', (chunk) => {
  if (!announced && /HTTP server listening/.test(String(chunk))) {
    announced = true;
    console.log(`\nGlassbox is running in VS Code at  http://127.0.0.1:${port}/  (Ctrl+C to stop)\n`);
  }
});
process.on('SIGINT', () => server.kill('SIGTERM'));
server.on('exit', (code) => process.exit(code ?? 0));
