/**
 * Leveled logging for long-running roles (frontend, worker): one line per event on stderr, which
 * the supervisor prefixes and keeps in the process's log file. The level comes from DYN_LOG_LEVEL
 * (config `logLevel`), so `dynamo up --log-level debug` shows every request.
 */
import {err} from './output.js';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function logger(env: NodeJS.ProcessEnv = process.env) {
  const level = LEVELS.indexOf((env.DYN_LOG_LEVEL as LogLevel) ?? 'info');
  const at = (l: LogLevel) => (msg: string) => {
    if (LEVELS.indexOf(l) <= (level < 0 ? 2 : level)) err(l === 'info' ? msg : `${l}: ${msg}`);
  };
  return {error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), enabled: (l: LogLevel) => LEVELS.indexOf(l) <= (level < 0 ? 2 : level)};
}

export type Logger = ReturnType<typeof logger>;
