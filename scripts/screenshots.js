#!/usr/bin/env node
// Copies the README's screenshots from the last end-to-end run (test-results/e2e/, written by
// `npm run test:e2e` in a real VS Code) into media/screenshots/. Run the e2e suite first.
//   node scripts/screenshots.js
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const from = path.join(root, 'test-results', 'e2e');
const to = path.join(root, 'media', 'screenshots');

/** README name → the e2e shot it shows. */
const SHOTS = {
  'completion.png': 'quality-workspace-name.png', // a name from another file of the workspace
  'explain.png': 'glassbox-explain-surprisal.png',
  'architecture.png': 'architecture-panel.png',
  'attention.png': 'quality-attention-copied.png',
  'costs.png': 'costs-panel.png',
};

fs.mkdirSync(to, { recursive: true });
const missing = Object.values(SHOTS).filter((shot) => !fs.existsSync(path.join(from, shot)));
if (missing.length) {
  console.error(`screenshots: not in test-results/e2e/ (run npm run test:e2e): ${missing.join(', ')}`);
  process.exit(1);
}
for (const [name, shot] of Object.entries(SHOTS)) fs.copyFileSync(path.join(from, shot), path.join(to, name));
console.log(`screenshots: ${Object.keys(SHOTS).length} copied to media/screenshots/`);
