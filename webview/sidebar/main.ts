/** The side panel's "Model" view: which model runs, its state, the last request, and shortcuts. */
import { onMessage, post } from '../shared/host';
import { el, registerToolkit } from '../shared/toolkit';
import { isHostToView, type SidebarCommand, type SidebarModel, type ViewToHost } from './protocol';

registerToolkit();
const send = (m: ViewToHost) => post(m);
const app = document.getElementById('app')!;

const STATE_TEXT: Record<SidebarModel['state'], string> = {
  idle: 'loads on first use',
  loading: 'loading…',
  ready: 'ready',
  generating: 'generating…',
  error: 'error',
};

function button(label: string, command: SidebarCommand, secondary = true): HTMLElement {
  const b = el('vscode-button', 'action', label);
  if (secondary) b.setAttribute('appearance', 'secondary');
  b.addEventListener('click', () => send({ type: 'run', command }));
  return b;
}

function render(m: SidebarModel): void {
  app.replaceChildren();
  const head = el('section', 'card');
  head.append(el('h2', '', m.model), el('div', `state state-${m.state}`, STATE_TEXT[m.state]));
  if (m.error) head.append(el('p', 'error', m.error));
  if (m.details) {
    const d = m.details;
    head.append(
      el(
        'p',
        'muted',
        `${d.layers} layers · ${d.kvHeads} KV heads × ${d.headDim} · context ${d.context} · FIM: ${d.fim} · KV ${d.kv}`,
      ),
    );
  }
  if (m.last) {
    head.append(
      el(
        'p',
        '',
        `Last ${m.last.kind}: ${Math.round(m.last.latencyMs)} ms, ${m.last.tokens} tokens, ${m.last.tokensPerSecond.toFixed(0)} tokens/s`,
      ),
    );
  }
  app.append(head);
  const actions = el('section', 'actions');
  actions.append(
    button(m.completionsEnabled ? 'Turn completions off' : 'Turn completions on', 'glassbox.toggleCompletions', false),
    button('Explain selection', 'glassbox.explainSelection'),
    button('Model architecture', 'glassbox.showArchitecture'),
    button('Attention', 'glassbox.showAttention'),
    button('Costs', 'glassbox.showCosts'),
    button('Select model…', 'glassbox.selectModel'),
  );
  app.append(actions);
}

onMessage(isHostToView, (msg) => render(msg.model));
send({ type: 'ready' });
