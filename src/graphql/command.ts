import { newId } from '../eventstore/ids.js';
import type { CommandContext } from '../eventstore/command.js';
import type { Context } from './context.js';

/** Same input, same fingerprint: keys sorted, the idempotency key itself left out. */
export const fingerprint = (input: Record<string, unknown>): string =>
  JSON.stringify(
    Object.keys(input)
      .filter((key) => key !== 'idempotencyKey')
      .sort()
      .map((key) => [key, input[key] ?? null]),
  );

/** The command's context at the GraphQL edge: a fresh command id, the clock, and tracing ids. */
export const commandContext = (
  commandName: string,
  input: Record<string, unknown> & { idempotencyKey?: string | null },
  context: Context,
): CommandContext => ({
  commandName,
  commandId: newId('cmd'),
  now: context.services.clock(),
  fingerprint: fingerprint(input),
  ...(context.correlationId !== undefined && { correlationId: context.correlationId }),
  ...(input.idempotencyKey !== undefined && input.idempotencyKey !== null && { idempotencyKey: input.idempotencyKey }),
});
