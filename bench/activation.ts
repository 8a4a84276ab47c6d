/**
 * Activation time in a real VS Code: code-server with the packaged .vsix, as the e2e tests run
 * it; the extension logs how long activate() took, and each window reload activates it again.
 * Skipped (with the reason) when code-server, Chromium or the .vsix are missing.
 */
import { findGlassboxVsix, missingPrerequisites } from '../test/e2e/prerequisites';
import { Workbench } from '../test/e2e/workbench';
import { summarize, type Summary } from './stats';

export type ActivationResult = { activationMs: Summary } | { skipped: string };

const ACTIVATED = /Glassbox activated in ([\d.]+) ms/;

export async function activationTime(reloads: number): Promise<ActivationResult> {
  const missing = missingPrerequisites();
  const vsix = findGlassboxVsix();
  if (missing.length > 0 || !vsix)
    return { skipped: missing.length ? missing.join('; ') : 'no .vsix (npm run package)' };
  const wb = await Workbench.start({ name: 'bench-activation', vsix });
  try {
    const times: number[] = [];
    for (let i = 0; i <= reloads; i++) {
      if (i > 0) await wb.runCommand('Developer: Reload Window').then(() => wb.open());
      await wb.waitForCommands('Glassbox:');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const lines = wb
          .outputChannelLines('Glassbox')
          .map((l) => ACTIVATED.exec(l))
          .filter((m): m is RegExpExecArray => m !== null);
        if (lines.length > i) {
          times.push(Number(lines[i][1]));
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return times.length ? { activationMs: summarize(times) } : { skipped: 'the activation log line never appeared' };
  } finally {
    await wb.close();
  }
}
