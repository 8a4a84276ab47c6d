/** Model servers: `createServer` picks the protocol's client from the settings. */
import type { ModelServer, ServerSettings } from './backend';
import { parseEndpoint } from './endpoint';
import { LlamaCppServer } from './llamacpp';
import { OllamaServer } from './ollama';
import { OpenAiServer } from './openai';

export function createServer(s: ServerSettings): ModelServer {
  const base = parseEndpoint(s.endpoint, s.kind);
  switch (s.kind) {
    case 'openai':
      return new OpenAiServer(base, s);
    case 'llamacpp':
      return new LlamaCppServer(base, s);
    case 'ollama':
      return new OllamaServer(base, s);
  }
}
