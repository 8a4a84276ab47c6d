/**
 * The seam between the extension and whatever runs the model: the embedded engine on this
 * machine (embedded.ts) or a model server (server.ts). The router (router.ts) holds the one the
 * settings choose; views ask a backend's `capabilities`, never which kind it is.
 */
import type * as vscode from 'vscode';
import type { CompletionResult, ExplainResult, CallOptions, Params } from '../engine';
import type { BackendKind } from '../remote/endpoint';

export interface BackendCapabilities {
  /** The model runs on this machine: code never leaves it. */
  local: boolean;
  /** Results carry token ids and the model's own records (the attention view and the explorer read them). */
  tokens: boolean;
  /** Every token's probability on given code (Explain's "What the model did not expect"). */
  surprisal: boolean;
  /** The model's graph can be read here (the architecture explorer draws it); else describe() says what the server says. */
  graph: boolean;
}

/** What a backend says of its model, for the views. */
export interface BackendDescription {
  /** The model's name. */
  name: string;
  /** Where requests go, in words ("this machine", or a server's host). */
  where: string;
  /** Facts the server reports (parameter count, quantization, context), as [label, value]. */
  facts: [string, string][];
}

export interface Backend extends vscode.Disposable {
  readonly kind: 'embedded' | BackendKind;
  /** The model that serves requests, as the status bar and the ledger name it. */
  readonly label: string;
  readonly capabilities: BackendCapabilities;
  /** The backend asked not to be asked for now (a server's 429): automatic completions ask nothing. */
  readonly resting: boolean;
  complete(params: Params<'complete'>, opts: CallOptions): Promise<CompletionResult>;
  explain(params: Params<'explain'>, opts: CallOptions): Promise<ExplainResult>;
  describe(signal?: AbortSignal): Promise<BackendDescription>;
}
