/** The OpenAPI document served at /openapi.json (paths and operations; bodies follow OpenAI's spec). */
export function openApiDocument(version: string) {
  const json = {'application/json': {schema: {type: 'object'}}};
  const errors = {
    '400': {description: 'Invalid request (bad JSON, bad field, prompt longer than the context)', content: json},
    '401': {description: 'Missing or wrong API key'},
    '404': {description: 'Unknown model'},
    '413': {description: 'Body too large'},
    '503': {description: 'No worker available, or all busy (see Retry-After)'},
  };
  const generation = (summary: string) => ({
    post: {
      summary,
      requestBody: {required: true, content: json},
      responses: {'200': {description: 'A response, or an SSE stream when `stream: true`', content: {...json, 'text/event-stream': {}}}, ...errors},
    },
  });
  return {
    openapi: '3.1.0',
    info: {title: 'dynamo frontend (OpenAI-compatible)', version},
    paths: {
      '/v1/chat/completions': generation('Create a chat completion'),
      '/v1/completions': generation('Create a text completion'),
      '/v1/models': {get: {summary: 'List served models', responses: {'200': {description: 'Model list', content: json}}}},
      '/v1/models/{model}': {get: {summary: 'Describe one model', responses: {'200': {description: 'Model', content: json}, '404': {description: 'Unknown model'}}}},
      '/health': {get: {summary: 'Health with the workers behind it', responses: {'200': {description: 'Healthy', content: json}}}},
      '/live': {get: {summary: 'Liveness', responses: {'200': {description: 'Live'}, '503': {description: 'Shutting down'}}}},
      '/metrics': {get: {summary: 'Prometheus metrics', responses: {'200': {description: 'Text exposition format'}}}},
    },
  };
}
