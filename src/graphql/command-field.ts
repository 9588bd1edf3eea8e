import type { InputObjectRef, ObjectRef } from '@pothos/core';
import type { Aggregate, CommandOptions } from '../eventstore/aggregate.js';
import type { CommandContext } from '../eventstore/command.js';
import { ValidationError } from '../eventstore/errors.js';
import { newId } from '../eventstore/ids.js';
import type { PostgresSession } from '../eventstore/postgres-store.js';
import type { Event } from '../eventstore/types.js';
import { requireOwner } from '../auth/access.js';
import { builder } from './builder.js';
import { unstorableIn } from './input-guard.js';
import type { Context } from './context.js';

export const maxIdempotencyKeyLength = 200;

/** What every command input may carry besides its own fields. */
export type CommandInput = {
  readonly idempotencyKey?: string | null;
  readonly expectedVersion?: number | null;
};

/** Same input, same fingerprint: keys sorted, the idempotency key itself left out. */
export const fingerprint = (input: Record<string, unknown>): string =>
  JSON.stringify(
    Object.keys(input)
      .filter((key) => key !== 'idempotencyKey')
      .sort()
      .map((key) => [key, input[key] ?? null]),
  );

/**
 * The command's context at the GraphQL edge: its name (the mutation's), a fresh command id, the
 * clock, tracing ids, and the idempotency key once it is checked.
 */
export const commandContext = (commandName: string, input: Record<string, unknown> & CommandInput, context: Context): CommandContext => {
  const key = input.idempotencyKey;
  if (key != null && (key.length === 0 || key.length > maxIdempotencyKeyLength)) {
    throw new ValidationError(`idempotencyKey must be 1 to ${maxIdempotencyKeyLength} characters`, 'idempotencyKey');
  }
  return {
    commandName,
    commandId: newId('cmd'),
    now: context.services.clock(),
    // Whose key: another principal reusing it is refused like different input, never answered with the first result.
    fingerprint: context.principal.sub === null ? fingerprint(input) : `${fingerprint(input)}@${context.principal.sub}`,
    ...(context.correlationId !== undefined && { correlationId: context.correlationId }),
    ...(context.principal.sub !== null && { actor: context.principal.sub }),
    ...(key != null && { idempotencyKey: key }),
  };
};

/** Any aggregate that takes `Command` and answers `Result` (its state and events stay its own). */
type Handles<Command, Result> = Pick<Aggregate<Command, never, Event, PostgresSession, Result>, 'handle'>;

/** What a mutation's `run` gets: one call that hands a command to an aggregate, in context. */
export type CommandCall = {
  /**
   * Runs `command` against aggregate `id` in its own transaction and answers its result; the
   * input's `expectedVersion` applies unless `options` say otherwise (`{ newStream: true }`: a new stream, ALREADY_EXISTS when taken).
   */
  handle<Command, Result>(aggregate: Handles<Command, Result>, id: string, command: Command, options?: CommandOptions): Promise<Result>;
  /**
   * Throws FORBIDDEN unless the caller owns aggregate `id` of this type (admins own everything;
   * aggregate types without owners are everyone's): call it for each aggregate the command acts on.
   */
  authorize(aggregateType: string, id: string): Promise<void>;
  readonly context: Context;
};

type ErrorClass = new (...args: never[]) => Error;

export type CommandFieldOptions<Input extends CommandInput, Data> = {
  readonly description: string;
  readonly input: InputObjectRef<typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never, Input>;
  readonly inputDescription: string;
  /** The success payload's one field: the aggregate's projection as the command wrote it. */
  readonly type: ObjectRef<typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never, Data>;
  readonly data: { readonly name: string; readonly description: string };
  /** Descriptions of the result union and of its success member. */
  readonly union: string;
  readonly result: string;
  /** Error members besides ValidationError and ConcurrencyConflictError, which every command has. */
  readonly errors?: readonly ErrorClass[];
  /** The mapping from input to command: nothing else belongs here. */
  run(input: Input, call: CommandCall): Promise<Data>;
};

/**
 * Mutation `name`: one `input` argument, a `NameResult` union of `NameSuccess` and the command's
 * errors, and `run` mapping the input to a command. The command's name is the field's, so the
 * two cannot drift.
 */
export const commandField = <Input extends CommandInput, Data>(name: string, options: CommandFieldOptions<Input, Data>) =>
  builder.mutationField(name, (t) =>
    t.field({
      type: options.type as never,
      // Every command needs cairn:write; commands on owned aggregates check ownership in `run` (`call.authorize`).
      authScopes: { write: true },
      description: options.description,
      args: { input: t.arg({ type: options.input as never, required: true, description: options.inputDescription }) },
      errors: {
        types: [...(options.errors ?? [])] as never,
        union: { description: options.union },
        result: { description: options.result },
        dataField: options.data,
      },
      resolve: (_root, args, context) => {
        const input = (args as { input: Input }).input;
        const unstorable = unstorableIn(input, '');
        if (unstorable !== undefined) {
          throw new ValidationError(`${unstorable} holds a NUL character or a lone surrogate, which cannot be stored`, unstorable);
        }
        const commandContextValue = commandContext(name, input as Record<string, unknown> & CommandInput, context);
        const defaults: CommandOptions = input.expectedVersion == null ? {} : { expectedVersion: input.expectedVersion };
        const call: CommandCall = {
          context,
          handle: async (aggregate, id, command, commandOptions = defaults) =>
            (await aggregate.handle(context.services.store, id, command, commandContextValue, commandOptions)).result,
          authorize: (aggregateType, id) => requireOwner(context.principal, aggregateType, id, context.services),
        };
        return options.run(input, call) as never;
      },
    }),
  );
