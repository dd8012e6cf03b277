/**
 * OpenAI request bodies, validated with the ranges vLLM and Dynamo enforce. Unknown fields are
 * accepted and kept (engine extras like top_k or ignore_eos must pass through).
 */
import {z} from 'zod';

const stop = z.union([z.string(), z.array(z.string()).max(32)]).nullish();
const streamOptions = z.looseObject({include_usage: z.boolean().nullish()}).nullish();

const common = {
  model: z.string({error: 'model is required'}).min(1),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: z.number().int().min(1).nullish(),
  stop,
  n: z.number().int().min(1).max(128).nullish(),
  seed: z.number().int().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  ignore_eos: z.boolean().nullish(),
  min_tokens: z.number().int().min(0).nullish(),
  user: z.string().nullish(),
  nvext: z
    .looseObject({
      // Dynamo's per-request router settings (RouterConfigOverride).
      router_config_override: z
        .looseObject({
          overlap_score_weight: z.number().min(0).nullish(),
          router_temperature: z.number().min(0).nullish(),
          assume_kv_reuse: z.boolean().nullish(),
          track_prefill_tokens: z.boolean().nullish(),
        })
        .nullish(),
      agent_hints: z.looseObject({kv_overlap_score_weight: z.number().min(0).nullish()}).nullish(),
    })
    .nullish(),
};

const contentPart = z.looseObject({type: z.string(), text: z.string().optional()});
export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().optional(),
  tool_calls: z.array(z.any()).optional(),
  tool_call_id: z.string().optional(),
});

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(chatMessageSchema).min(1, 'messages must not be empty'),
  max_completion_tokens: z.number().int().min(1).nullish(),
  tools: z.array(z.looseObject({type: z.literal('function'), function: z.looseObject({name: z.string().max(96)})})).max(1536).nullish(),
  tool_choice: z.any().optional(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});

export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()), z.array(z.number().int().min(0)), z.array(z.array(z.number().int().min(0)))]),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  suffix: z.string().nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
