/**
 * Model servers' answers as their public documentation describes them, for the clients' tests.
 * Each constant names the document and section it follows.
 */

// OpenAI API reference, "Completions (legacy) > Create completion" with `stream: true`, `logprobs: 1`
// and `stream_options: {include_usage: true}` (the last chunk carries `usage` and no choices).
export const openaiCompletionChunks = (model: string) => [
  {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1733000000,
    model,
    choices: [
      {
        index: 0,
        text: 'a',
        logprobs: { tokens: ['a'], token_logprobs: [-0.1], text_offset: [0] },
        finish_reason: null,
      },
    ],
  },
  {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1733000000,
    model,
    choices: [
      {
        index: 0,
        text: ' + b',
        logprobs: { tokens: [' +', ' b'], token_logprobs: [-0.2, -0.05], text_offset: [1, 3] },
        finish_reason: null,
      },
    ],
  },
  {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1733000000,
    model,
    choices: [{ index: 0, text: ';', finish_reason: 'stop' }],
  },
  {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1733000000,
    model,
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
  },
];

// vLLM's OpenAI-compatible server answers a `suffix` with 400 and an OpenAI-style error object
// (vLLM docs, "OpenAI-Compatible Server > Completions API": suffix is not supported).
export const vllmSuffixRefusal = {
  object: 'error',
  message: 'suffix is not currently supported',
  type: 'BadRequestError',
  param: null,
  code: 400,
};

// OpenAI API reference, "Chat > Create chat completion", streaming: chat.completion.chunk objects
// with `delta.content`; no logprobs unless asked and supported.
export const openaiChatChunks = (model: string) => [
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
  },
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta: { content: 'Adds two' }, finish_reason: null }],
  },
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta: { content: ' numbers.' }, finish_reason: null }],
  },
  { id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    model,
    choices: [],
    usage: { prompt_tokens: 30, completion_tokens: 3, total_tokens: 33 },
  },
];

// OpenAI API reference, "Models > List models".
export const openaiModels = {
  object: 'list',
  data: [
    { id: 'Qwen/Qwen2.5-Coder-7B', object: 'model', created: 1733000000, owned_by: 'vllm' },
    { id: 'Qwen/Qwen2.5-Coder-7B-Instruct', object: 'model', created: 1733000000, owned_by: 'vllm' },
  ],
};

// llama.cpp, tools/server/README.md, "POST /infill" (streamed as "POST /completion" describes):
// `content` per event, `completion_probabilities` with `n_probs`, the last event `stop: true` with
// the counts and timings. No `[DONE]`.
export const llamacppInfillEvents = [
  {
    content: 'a',
    stop: false,
    id_slot: 0,
    completion_probabilities: [{ id: 64, token: 'a', logprob: -0.3, bytes: [97], top_logprobs: [] }],
  },
  {
    content: ' + b',
    stop: false,
    id_slot: 0,
    completion_probabilities: [{ id: 488, token: ' + b', logprob: -0.01, bytes: [32, 43, 32, 98], top_logprobs: [] }],
  },
  {
    content: '',
    stop: true,
    id_slot: 0,
    model: 'qwen2.5-coder-1.5b-q8_0.gguf',
    tokens_predicted: 2,
    tokens_evaluated: 41,
    stop_type: 'eos',
    timings: { prompt_n: 41, prompt_ms: 12.5, predicted_n: 2, predicted_ms: 8.1 },
  },
];

// llama.cpp, tools/server/README.md, "GET /props".
export const llamacppProps = {
  default_generation_settings: { n_ctx: 8192, params: { temperature: 0.8 } },
  total_slots: 1,
  model_path: '/models/qwen2.5-coder-1.5b-q8_0.gguf',
  chat_template: '{% for message in messages %}…{% endfor %}',
  build_info: 'b4500-abcdef0',
};

// Ollama, docs/api.md, "Generate a completion", streaming response: one JSON object per line; the
// last has `done: true`, `done_reason` and the counts.
export const ollamaGenerateLines = (model: string) => [
  { model, created_at: '2026-12-02T08:52:19.385406455Z', response: 'a', done: false },
  { model, created_at: '2026-12-02T08:52:19.485406455Z', response: ' + b', done: false },
  {
    model,
    created_at: '2026-12-02T08:52:19.585406455Z',
    response: '',
    done: true,
    done_reason: 'stop',
    total_duration: 10706818083,
    load_duration: 6338219291,
    prompt_eval_count: 26,
    prompt_eval_duration: 130079000,
    eval_count: 2,
    eval_duration: 4232710000,
  },
];

// Ollama answers `suffix` for a model whose template has no insert with 400 and `{error}`
// (server/routes.go, GenerateHandler: "%s does not support insert").
export const ollamaNoInsert = (model: string) => ({
  error: `registry.ollama.ai/library/${model} does not support insert`,
});

// Ollama, docs/api.md, "Generate a chat completion", streaming response.
export const ollamaChatLines = (model: string) => [
  { model, created_at: '2026-12-02T08:52:19Z', message: { role: 'assistant', content: 'Adds two' }, done: false },
  { model, created_at: '2026-12-02T08:52:19Z', message: { role: 'assistant', content: ' numbers.' }, done: false },
  {
    model,
    created_at: '2026-12-02T08:52:19Z',
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: 'stop',
    prompt_eval_count: 30,
    eval_count: 3,
  },
];

// Ollama, docs/api.md, "List Local Models".
export const ollamaTags = {
  models: [
    {
      name: 'qwen2.5-coder:1.5b',
      model: 'qwen2.5-coder:1.5b',
      size: 986061892,
      digest: 'a8b0c5157701',
      details: { family: 'qwen2', parameter_size: '1.5B', quantization_level: 'Q4_K_M' },
    },
    {
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      size: 2019393189,
      digest: 'a80c4f17acd5',
      details: { family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
    },
  ],
};

// Ollama, docs/api.md, "Show Model Information".
export const ollamaShow = {
  modelfile: '# Modelfile generated by "ollama show"',
  template:
    '{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>{{- else }}…{{- end }}',
  details: {
    parent_model: '',
    format: 'gguf',
    family: 'qwen2',
    families: ['qwen2'],
    parameter_size: '1.5B',
    quantization_level: 'Q4_K_M',
  },
  model_info: {
    'general.architecture': 'qwen2',
    'general.parameter_count': 1543714304,
    'qwen2.block_count': 28,
    'qwen2.attention.head_count': 12,
    'qwen2.attention.head_count_kv': 2,
    'qwen2.context_length': 32768,
    'qwen2.embedding_length': 1536,
  },
  capabilities: ['completion', 'insert'],
};
