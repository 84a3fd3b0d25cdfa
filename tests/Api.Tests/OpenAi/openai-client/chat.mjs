// Drives the service's POST /v1/chat/completions with the official openai client, for the C# test
// OpenAiNodeClientTests (which asserts on what this writes).
// usage: node chat.mjs <base-url, e.g. http://127.0.0.1:PORT/v1> <input.json> <out.json>
//   input.json: { "apiKey", "model", "uploadedVideoUrl": "vqtoken://videos/<id>", "webVideoUrl": "http://…/clip.mp4", "question", "maxTokens" }
//   out.json:   { completion, chunks, error, authError, models }: the client's own objects, as JSON.
import { readFileSync, writeFileSync } from "node:fs";
import OpenAI from "openai";

const [baseURL, inputPath, outPath] = process.argv.slice(2);
if (!baseURL || !inputPath || !outPath) {
  console.error("usage: node chat.mjs <base-url> <input.json> <out.json>");
  process.exit(2);
}
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const client = new OpenAI({ baseURL, apiKey: input.apiKey, maxRetries: 0, timeout: 240_000 });

const ask = (videoUrl) => ({
  model: input.model,
  messages: [
    { role: "system", content: "Answer briefly." },
    {
      role: "user",
      content: [
        { type: "video_url", video_url: { url: videoUrl } },
        { type: "text", text: input.question },
      ],
    },
  ],
  max_tokens: input.maxTokens,
  temperature: 0,
});

// 1. Non-streaming, about an uploaded video.
const completion = await client.chat.completions.create(ask(input.uploadedVideoUrl));

// 2. Streaming with usage, about a video on the web (fetched by the service).
const stream = await client.chat.completions.create({
  ...ask(input.webVideoUrl),
  stream: true,
  stream_options: { include_usage: true },
});
const chunks = [];
for await (const chunk of stream) chunks.push(chunk);

// 3. An invalid request: the client raises its error type with the service's message.
const describe = (e) => ({
  isApiError: e instanceof OpenAI.APIError,
  isBadRequest: e instanceof OpenAI.BadRequestError,
  isAuthentication: e instanceof OpenAI.AuthenticationError,
  status: e.status ?? null,
  message: e.message ?? null,
  type: e.type ?? null,
  param: e.param ?? null,
  code: e.code ?? null,
});
let error = null;
try {
  await client.chat.completions.create({ ...ask(input.uploadedVideoUrl), n: 2 });
} catch (e) {
  error = describe(e);
}

// 3b. A wrong API key: AuthenticationError with the service's message.
let authError = null;
try {
  const stranger = new OpenAI({ baseURL, apiKey: "wrong-key", maxRetries: 0, timeout: 60_000 });
  await stranger.chat.completions.create(ask(input.uploadedVideoUrl));
} catch (e) {
  authError = describe(e);
}

// 4. The model list.
const models = [];
for await (const model of client.models.list()) models.push(model.id);

writeFileSync(outPath, JSON.stringify({ completion, chunks, error, authError, models }));
