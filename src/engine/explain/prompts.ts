/**
 * Explain prompts. Glassbox's own model was fine-tuned on `code <|explain|> summary`; models with
 * a chat template get it rendered with @huggingface/jinja; other base models get a plain-text
 * prompt. A user template (a setting) replaces the text part: `{code}` and `{language}` are filled.
 */
import * as vm from 'node:vm';
import { Template } from '@huggingface/jinja';
import { GlassboxError } from '../errors';
import type { TextTokenizer } from '../runtime/tokenizer';

const EXPLAIN_TOKEN = '<|explain|>';
/** A chat template's render must end within this, ms (real ones take a few). */
const TEMPLATE_MS = 500;
/** And give at most this many characters. */
const TEMPLATE_CHARS = 1_000_000;

/**
 * A model's chat template rendered with a time and size bound. A template is code from the model
 * folder: `{% for i in range(100000000) %}` never returned and passed 2 GB. The render runs under
 * vm's timeout, which stops whatever JavaScript runs in it (the jinja interpreter included).
 */
export function renderChatTemplate(template: string, vars: Record<string, unknown>): string {
  const broken = (why: string) =>
    new GlassboxError(
      'TOKENIZER_INVALID',
      `The model's chat_template ${why}.`,
      'The model folder is damaged or hostile: choose another model, or set glassbox.explain.promptTemplate for a plain prompt.',
    );
  let text: unknown;
  try {
    const render = () => new Template(template).render(vars);
    text = vm.runInNewContext('render()', { render }, { timeout: TEMPLATE_MS });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
      throw broken(`did not finish within ${TEMPLATE_MS} ms`);
    throw broken(`could not be rendered: ${(err as Error).message}`);
  }
  if (typeof text !== 'string') throw broken('did not render to text');
  if (text.length > TEMPLATE_CHARS) throw broken(`rendered ${text.length.toLocaleString('en')} characters`);
  return text;
}
const DEFAULT_EXPLAIN_TEMPLATE = 'Explain what this {language} code does, briefly.\n\n```{language}\n{code}\n```';
const BASE_MODEL_TEMPLATE = '```{language}\n{code}\n```\nIn one paragraph, the code above';

export type ExplainStyle = 'glassbox' | 'chat' | 'plain';

interface ExplainPrompt {
  ids: number[];
  style: ExplainStyle;
  /** The prompt as text, for the "details" view. */
  text: string;
  stopStrings: string[];
}

export interface ExplainRequest {
  code: string;
  language?: string;
  /** Overrides the instruction text for chat and plain models. */
  template?: string;
}

function fill(template: string, code: string, language: string): string {
  return template.replaceAll('{language}', language).replaceAll('{code}', code);
}

/** The user message that asks a chat model (local or on a server) to explain `req.code`. */
export function chatExplainInstruction(req: ExplainRequest): string {
  return fill(req.template ?? DEFAULT_EXPLAIN_TEMPLATE, req.code, req.language ?? '');
}

export function buildExplainPrompt(tokenizer: TextTokenizer, req: ExplainRequest): ExplainPrompt {
  if (!req.code.trim())
    throw new GlassboxError(
      'PROMPT_EMPTY',
      'There is no code to explain.',
      'Select some code, or put the cursor inside a function.',
    );
  const language = req.language ?? '';
  const explainId = tokenizer.tokenId(EXPLAIN_TOKEN);
  if (explainId !== undefined && !req.template) {
    // Trained as `{code}<|explain|>` with code ending in a newline (models/recipe/explain_pairs.py);
    // a selection without one reads to the model as unfinished code, and it continues the code.
    const code = req.code.endsWith('\n') ? req.code : `${req.code}\n`;
    const ids = [...tokenizer.encode(code), explainId];
    // Its summaries are one line (no training summary holds a newline): a newline means it has
    // left the summary and gone back to writing code.
    return { ids, style: 'glassbox', text: code + EXPLAIN_TOKEN, stopStrings: ['\n'] };
  }
  if (tokenizer.chatTemplate) {
    const content = fill(req.template ?? DEFAULT_EXPLAIN_TEMPLATE, req.code, language);
    const text = renderChatTemplate(tokenizer.chatTemplate, {
      messages: [{ role: 'user', content }],
      add_generation_prompt: true,
      bos_token: tokenizer.bosToken ?? '',
      eos_token: tokenizer.eosToken ?? '',
    });
    return { ids: tokenizer.encode(text), style: 'chat', text, stopStrings: [] };
  }
  const text = fill(req.template ?? BASE_MODEL_TEMPLATE, req.code, language);
  return { ids: tokenizer.encode(text), style: 'plain', text, stopStrings: ['\n\n', '```'] };
}
