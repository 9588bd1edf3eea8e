import { GraphQLError } from 'graphql';
import { unauthenticated } from './authenticator.js';
import type { Principal } from './principal.js';

/**
 * A missing right: FORBIDDEN for a principal with a token, UNAUTHENTICATED for nobody (a request
 * without one, to a server that requires one). Either says nothing of the resource asked for.
 */
export const forbidden = (principal: Principal): GraphQLError =>
  principal.sub === null && !principal.open
    ? unauthenticated('This operation needs a token: send `authorization: Bearer <jwt>`.')
    : new GraphQLError('You may not do this: your token lacks the right for it.', { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
