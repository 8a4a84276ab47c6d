/**
 * A model's chat template is code from its folder: it is rendered with a time and size bound, so
 * a hostile or broken one (`{% for i in range(100000000) %}`) fails Explain with a clear message
 * instead of never returning while memory passes 2 GB.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChatTemplate } from '../../src/engine/explain/prompts';

const vars = { messages: [{ role: 'user', content: 'explain x' }], add_generation_prompt: true };

describe('chat templates', () => {
  it('renders an ordinary template', () => {
    const t =
      '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}';
    assert.equal(renderChatTemplate(t, vars), '<|user|>explain x<|assistant|>');
  });

  it('stops a template that loops for ever, with what to do', { timeout: 30_000 }, () => {
    assert.throws(
      () => renderChatTemplate('{% for i in range(100000000) %}x{% endfor %}', vars),
      (e: Error & { code?: string }) =>
        e.code === 'TOKENIZER_INVALID' && /did not finish within 500 ms/.test(e.message),
    );
  });

  it('refuses an output past 1,000,000 characters, and reports a template that does not parse', () => {
    assert.throws(
      () =>
        renderChatTemplate(
          '{% for i in range(12000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}',
          vars,
        ),
      /rendered 1,200,000 characters/,
    );
    assert.throws(() => renderChatTemplate('{% for %}', vars), /could not be rendered/);
  });
});
