/** The Explain panel: streamed explanation coloured by the model's confidence, Stop, and details. */
import { loadState, onMessage, post, saveState } from '../shared/host';
import { el, registerToolkit } from '../shared/toolkit';
import { markdownElement } from './markdown';
import {
  isHostToView,
  savedState,
  type ExplainSavedState,
  type ExplainViewState,
  type HostToView,
  type StreamedToken,
  type ViewToHost,
} from './protocol';
import { surprisalView } from './surprisalView';

registerToolkit();
const send = (m: ViewToHost) => post(m);

let state: ExplainViewState | undefined;
/** After a window reload: what the panel showed, without the code (which is not stored). */
const saved = loadState<ExplainSavedState>();
const app = document.getElementById('app')!;

/** Five confidence bands; CSS colours them from the theme. */
function band(prob: number): number {
  return prob >= 0.8 ? 4 : prob >= 0.5 ? 3 : prob >= 0.25 ? 2 : prob >= 0.1 ? 1 : 0;
}

function tokenSpan(t: StreamedToken): HTMLElement {
  if (t.prob === undefined) return el('span', 'tok', t.text); // the server sent no probabilities
  const s = el('span', `tok conf-${band(t.prob)}`, t.text);
  s.title = `p = ${(t.prob * 100).toFixed(1)}%`;
  return s;
}

/** Below this geometric-mean token probability the summary is mostly a guess: the panel says so. */
const UNSURE = 0.25;

function lowConfidenceNote(all: StreamedToken[]): HTMLElement | null {
  const tokens = all.filter((t): t is StreamedToken & { prob: number } => t.prob !== undefined);
  if (tokens.length === 0) return null;
  const mean = Math.exp(tokens.reduce((n, t) => n + Math.log(Math.max(t.prob, 1e-9)), 0) / tokens.length);
  if (mean >= UNSURE) return null;
  const p = el('p', 'note');
  p.append(
    `The model was unsure of this summary (mean word probability ${mean.toFixed(2)}): a small model's prose is often generic. The words it did not expect, below, say more. For better explanations use a bigger model: `,
  );
  const link = el('vscode-link', '', 'Select Model');
  link.addEventListener('click', () => send({ type: 'selectModel' }));
  p.append(link, '.');
  return p;
}

function render(): void {
  app.replaceChildren();
  if (!state) {
    if (saved?.source) {
      app.append(el('h2', '', `Explaining ${saved.source}`));
      app.append(
        el(
          'p',
          'muted',
          'The explanation was not kept across the reload: Glassbox does not store your code in the workspace state. Run "Glassbox: Explain" again.',
        ),
      );
    } else app.append(el('p', 'muted', 'Run "Glassbox: Explain" on a selection or inside a function.'));
    return;
  }
  const header = el('header', 'row');
  header.append(el('h2', '', `Explaining ${state.source}`));
  if (state.status === 'streaming') {
    const stop = el('vscode-button', 'stop', 'Stop');
    stop.setAttribute('appearance', 'secondary');
    stop.addEventListener('click', () => send({ type: 'stop' }));
    header.append(el('vscode-progress-ring', 'spinner'), stop);
  }
  app.append(header);
  const text = el('div', 'explanation');
  text.id = 'explanation';
  for (const t of state.tokens) text.append(tokenSpan(t));
  // a model server may send no probabilities: then there is nothing to colour, and the panel says so
  const coloured = state.tokens.length === 0 || state.tokens.some((t) => t.prob !== undefined);
  if (state.done) {
    // the finished text as Markdown; the confidence colours stay one click away
    app.append(markdownElement(state.done.text));
    if (coloured) {
      const colours = el('details', 'confidence');
      colours.append(el('summary', '', 'Model confidence per word'), text);
      app.append(colours);
    } else app.append(el('p', 'muted', 'The model server sent no word probabilities: the words are not coloured.'));
    const note = lowConfidenceNote(state.tokens);
    if (note) app.append(note);
  } else app.append(text);
  if (state.surprisal) {
    const d = el('details', 'section');
    d.open = true;
    d.append(el('summary', '', 'What the model did not expect'), surprisalView(state.surprisal));
    app.append(d);
  }
  if (state.status === 'stopped') app.append(el('p', 'muted', 'Stopped.'));
  if (state.status === 'error') app.append(el('p', 'error', state.error ?? 'Failed.'));
  if (coloured) app.append(legend());
  const details = el('details', 'details');
  details.append(el('summary', '', 'Details'));
  const code = el('pre', 'code');
  code.textContent = state.code;
  details.append(el('h3', '', 'Code'), code);
  if (state.done) {
    const d = state.done.details;
    const table = el('table', 'figures');
    const rows: [string, string][] = [
      ['Model', d.model],
      ['Prompt tokens', String(d.promptTokens)],
      ['Generated tokens', String(d.generatedTokens)],
      ['Prefill', `${d.prefillMs.toFixed(1)} ms`],
      [
        'Decode',
        `${d.decodeMs.toFixed(1)} ms (${d.decodeMs > 0 ? ((d.generatedTokens / d.decodeMs) * 1000).toFixed(0) : '–'} tokens/s)`,
      ],
      ['Stopped by', d.stopReason],
    ];
    for (const [k, v] of rows) {
      const tr = el('tr');
      tr.append(el('th', '', k), el('td', '', v));
      table.append(tr);
    }
    const prompt = el('pre', 'code');
    prompt.textContent = d.promptText;
    details.append(el('h3', '', 'Figures'), table, el('h3', '', 'Exact prompt'), prompt);
  }
  app.append(details);
}

function legend(): HTMLElement {
  const l = el('div', 'legend');
  l.append(el('span', 'muted', 'Model confidence: '));
  ['< 10%', '10–25%', '25–50%', '50–80%', '≥ 80%'].forEach((label, i) => l.append(el('span', `tok conf-${i}`, label)));
  return l;
}

function apply(msg: HostToView): void {
  switch (msg.type) {
    case 'start':
      state = { code: msg.code, language: msg.language, source: msg.source, tokens: [], status: 'streaming' };
      render();
      break;
    case 'tokens': {
      if (!state) return;
      state.tokens.push(...msg.tokens);
      const box = document.getElementById('explanation');
      if (box) for (const t of msg.tokens) box.append(tokenSpan(t));
      break;
    }
    case 'done':
      if (!state) return;
      state.status = 'done';
      state.done = { text: msg.text, details: msg.details };
      render();
      break;
    case 'surprisal':
      if (!state) return;
      state.surprisal = msg.surprisal;
      render();
      break;
    case 'stopped':
      if (state) state.status = 'stopped';
      render();
      break;
    case 'error':
      if (state) {
        state.status = 'error';
        state.error = msg.message;
      }
      render();
      break;
  }
  if (state) saveState<ExplainSavedState>(savedState(state));
}

onMessage(isHostToView, apply);
render();
send({ type: 'ready' });
