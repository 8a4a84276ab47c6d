/**
 * A server can change the model behind an endpoint between two requests (llama.cpp restarted with
 * another file, an Ollama tag re-pointed, a router in front of vLLM). Glassbox chose the model's
 * fill-in-the-middle tokens and priced its requests by the model it was told of, so a change is
 * said once, where the user sees it, instead of silently shaping suggestions for the wrong model.
 */
import type { ModelServer, RemoteCallOptions, RemoteCompleteRequest, RemoteExplainRequest } from './backend';

/**
 * `server`, calling `onChange(now, before)` the first time an answer names another model than the
 * answer before it. Answers that name no model (llama.cpp's /infill, some proxies) are not compared.
 */
export function watchModels(server: ModelServer, onChange: (now: string, before: string) => void): ModelServer {
  let last: string | undefined;
  const seen = <T extends { model: string }>(answer: T): T => {
    const now = answer.model.trim();
    if (now) {
      if (last !== undefined && now !== last) onChange(now, last);
      last = now;
    }
    return answer;
  };
  return {
    kind: server.kind,
    host: server.host,
    complete: (req: RemoteCompleteRequest, opts?: RemoteCallOptions) => server.complete(req, opts).then(seen),
    explain: (req: RemoteExplainRequest, opts?: RemoteCallOptions) => server.explain(req, opts).then(seen),
    models: (signal?: AbortSignal) => server.models(signal),
    info: (signal?: AbortSignal) => server.info(signal),
  };
}
