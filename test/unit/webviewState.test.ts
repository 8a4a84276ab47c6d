// VS Code writes a webview's saved state to workspace storage: the Explain panel and the Attention
// view must keep the user's code out of it (issue 16, fault 8).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewSettingsOnly } from '../../webview/attention/protocol';
import { savedState, type ExplainViewState } from '../../webview/explain/protocol';

const SECRET = 'function secretBusinessLogic(apiKey) {';

describe('webview state keeps no code', () => {
  it('Explain saves which selection it explained, not the code, the prompt or the explanation', () => {
    const state: ExplainViewState = {
      code: SECRET,
      language: 'javascript',
      source: 'billing.js:10–24',
      tokens: [{ text: 'Checks the apiKey', prob: 0.4 }],
      done: {
        text: 'Checks the apiKey',
        details: {
          model: 'm',
          promptText: `${SECRET}<|explain|>`,
          promptTokens: 12,
          generatedTokens: 4,
          prefillMs: 1,
          decodeMs: 2,
          stopReason: 'eos',
        },
      },
      status: 'done',
    };
    const saved = JSON.stringify(savedState(state));
    assert.ok(!saved.includes('secretBusinessLogic') && !saved.includes('apiKey'), saved);
    assert.match(saved, /billing\.js/);
  });

  it("Attention drops the prompt's token ids an older version saved", () => {
    const old = {
      mode: 'mean',
      layer: 1,
      restore: { source: 'completion', title: 't', model: 'm', ids: [101, 102, 103], generatedFrom: 2 },
    };
    const kept = viewSettingsOnly(old);
    assert.deepEqual(kept, { mode: 'mean', layer: 1 });
    assert.deepEqual(viewSettingsOnly(undefined), {});
  });
});
