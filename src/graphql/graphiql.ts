import { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker } from '@graphql-yoga/render-graphiql/graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { graphiqlScript } from './graphiql-script.js';

/**
 * cairn's GraphiQL: yoga's GraphiQL 5 bundle (no CDN, no request off the machine), opened on two
 * tabs that walk through the flow, with subscription results that accumulate (see
 * graphiql-script.ts). The HTTP server serves the page compressed, under a policy that runs its
 * inline scripts by hash (src/http/graphiql-page.ts).
 */

/** The first tab: a live subscription. GraphiQL runs one operation per page at a time. */
export const watchTab = /* GraphQL */ `# Welcome to cairn. GraphiQL runs one
# operation at a time per page: running
# another one, or switching tabs, stops a
# subscription. So watch in this page and
# act in another:
#
# 1. Run WatchEvents (the ▶ button). It
#    stays open and lists each event as it
#    commits, newest first.
# 2. Open this address in a second window,
#    go to its second tab (CreateTransaction)
#    and run the commands there: their events
#    show up here.

subscription WatchEvents {
  events {
    __typename type aggregateId version position
    ... on TransactionCreated { currency amount }
    ... on TransactionCompleted { doneBy }
  }
}
`;

/** The second tab: commands and queries, one at a time (▶ asks which). */
export const commandsTab = /* GraphQL */ `# Run these one at a time (▶ asks which):
# 1. CreateTransaction; copy the id it
#    answers.
# 2. CompleteTransaction: paste that id over
#    tx_paste_the_id_here and run it. Run it
#    again: it answers an IllegalStateError.
# 3. Transactions reads the projections,
#    each with its events.
#
# A command answers a union: __typename
# names the member, ... on Error reads any
# failure.

mutation CreateTransaction {
  createTransaction(input: { currency: "EUR", amount: "12.50" }) {
    __typename
    ... on CreateTransactionSuccess {
      transaction { id status amount version }
    }
    ... on Error { code message }
  }
}

mutation CompleteTransaction {
  completeTransaction(input: {
    id: "tx_paste_the_id_here", doneBy: "alice"
  }) {
    __typename
    ... on CompleteTransactionSuccess {
      transaction { id status doneBy version }
    }
    ... on Error { code message }
  }
}

query Transactions {
  transactions(first: 10) {
    edges {
      node {
        id status amount currency doneBy version
        events(first: 10) { edges { node { type version position } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/** What the headers pane says when the server requires a token. */
export const authenticationHeaders = JSON.stringify(
  { authorization: 'Bearer <a token: npm run token -- --sub you --scope "cairn:read cairn:write">' },
  null,
  2,
);

export type GraphiQLSettings = {
  /**
   * The headers pane of every tab, a JSON object as text; absent: empty. Set when the server
   * requires a token, so the explorer sees where it goes.
   */
  readonly defaultHeaders?: string | undefined;
};

/** GraphiQL's own options: cairn's tabs, and the headers pane when `defaultHeaders` is set. */
export const graphiqlOptions = (settings: GraphiQLSettings = {}): GraphiQLOptions => {
  const headers = settings.defaultHeaders ? { headers: settings.defaultHeaders } : {};
  return {
    title: 'cairn',
    defaultTabs: [
      { query: watchTab, ...headers },
      { query: commandsTab, ...headers },
    ],
    ...(settings.defaultHeaders && {
      defaultHeaders: settings.defaultHeaders,
      headers: settings.defaultHeaders,
      defaultEditorToolsVisibility: 'headers' as const,
    }),
  };
};

/** JSON inside a <script> element: `<` escaped, so no string in it can end the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The editor's workers, from blobs of their sources (the policy allows `worker-src blob:`), then
 * yoga's GraphiQL bundle, which defines `YogaGraphiQL`.
 */
const bundleScript = `
  self.MonacoEnvironment = (() => {
    const blob = (source) => URL.createObjectURL(new Blob([source], { type: 'application/javascript' }));
    const workers = {
      editorWorkerService: blob(${scriptJson(editorWorkerService)}),
      json: blob(${scriptJson(jsonWorker)}),
      graphql: blob(${scriptJson(graphqlWorker)}),
    };
    return { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] || workers.editorWorkerService };
  })();
  ${js};
`;

/**
 * GraphiQL's page: its options in a JSON block (data, never run), yoga's bundle and cairn's
 * script inline (two scripts, allowed by hash), its styles inline (the editor adds its own).
 */
export const graphiqlPageHtml = (endpoint: string, options: GraphiQLOptions): string => {
  const page = { endpoint, additionalHeaders: options.additionalHeaders ?? {}, graphiql: options };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'cairn')}</title>
    <link rel="icon" href="${favicon}" />
    <style>${css}</style>
    <script type="application/json" id="cairn-graphiql-options">${scriptJson(page)}</script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>${bundleScript}</script>
    <script>${graphiqlScript}</script>
  </body>
</html>
`;
};

/** The page the HTTP server serves at the GraphQL path; the headers pane says where a token goes when one is required. */
export const graphiqlHtml = (options: { readonly endpoint: string; readonly authentication: boolean }): string =>
  graphiqlPageHtml(options.endpoint, graphiqlOptions({ defaultHeaders: options.authentication ? authenticationHeaders : undefined }));
