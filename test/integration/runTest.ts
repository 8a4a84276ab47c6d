/**
 * Runs the integration suite inside a desktop VS Code with @vscode/test-electron.
 *
 *   GLASSBOX_VSCODE_PATH=/path/to/code npm run test:integration   # a VS Code you have
 *   npm run test:integration                                      # downloads one (needs network)
 *
 * This machine cannot download VS Code builds; here the same behaviours are covered end to end in
 * code-server (test/e2e/).
 */
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  try {
    await runTests({
      vscodeExecutablePath: process.env.GLASSBOX_VSCODE_PATH || undefined,
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      launchArgs: [path.join(root, 'test', 'e2e', 'workspace'), '--disable-extensions', '--disable-workspace-trust'],
    });
  } catch (err) {
    console.error('Integration tests failed or VS Code could not be started:', err);
    process.exit(1);
  }
}

void main();
