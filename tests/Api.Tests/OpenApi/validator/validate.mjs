// Validates an OpenAPI document with @apidevtools/swagger-parser (schema + spec rules) and prints, as
// one JSON line, every operation with its summary and how many examples its bodies carry.
// Usage: node validate.mjs <openapi.json>   (exit 1 with {"valid": false, "error": ...} when invalid)
import SwaggerParser from '@apidevtools/swagger-parser';

const methods = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

function countExamples(content) {
  let count = 0;
  for (const media of Object.values(content ?? {})) {
    if (media.example !== undefined) count++;
    count += Object.keys(media.examples ?? {}).length;
  }
  return count;
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate.mjs <openapi.json>');
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(file);
  const operations = [];
  for (const [path, item] of Object.entries(api.paths ?? {})) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      const requestExamples = countExamples(op.requestBody?.content);
      const responseExamples = Object.values(op.responses ?? {}).reduce((n, r) => n + countExamples(r.content), 0);
      operations.push({ method: method.toUpperCase(), path, operationId: op.operationId ?? null, summary: op.summary ?? null, requestExamples, responseExamples });
    }
  }
  console.log(JSON.stringify({ valid: true, openapi: api.openapi ?? api.swagger, title: api.info?.title, operations }));
} catch (error) {
  console.log(JSON.stringify({ valid: false, error: String(error?.message ?? error) }));
  process.exit(1);
}
