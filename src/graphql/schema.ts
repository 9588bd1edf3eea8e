import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { modules } from '../modules/index.js';
import { builder } from './builder.js';
import { implementErrorCodes } from './errors.js';
import './event.js';
import './node.js';

/**
 * The whole schema: the core types, then each module's GraphQL (its types, commands, queries,
 * subscriptions and event types), then the `ErrorCode` enum with every code the modules added.
 * Built once per process, at first use.
 */
const build = async (): Promise<GraphQLSchema> => {
  for (const module of modules) await module.graphql();
  implementErrorCodes();
  return lexicographicSortSchema(builder.toSchema());
};

export const schema: GraphQLSchema = await build();
