import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './event.js';
import './node.js';
import '../modules/transactions/graphql.js';
import '../modules/organizations/graphql.js';
import '../modules/orders/graphql.js';
import '../modules/accounts/graphql.js';
import '../modules/money-transfers/graphql.js';

/** The whole schema: importing a module's graphql.ts registers its types, fields and events. */
export const schema = lexicographicSortSchema(builder.toSchema());
