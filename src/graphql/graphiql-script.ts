/**
 * The script of cairn's GraphiQL page (inline, after yoga's bundle; the page's policy allows it by
 * hash). It reads the page's options from a JSON block and renders yoga's GraphiQL with a fetcher
 * of its own:
 *
 * - queries and mutations are POSTed as JSON, with the headers pane's headers;
 * - a subscription runs over SSE (graphql-sse's distinct connections mode, as the server writes it) and its
 *   results accumulate: the response pane shows every result received, newest first, instead of
 *   only the latest (GraphiQL replaces the pane with each result it is given, so each one it is
 *   given is the whole list so far);
 * - stopping it (the stop button, another tab, another run) closes the stream at once.
 *
 * Plain browser JavaScript in a string: it runs as written in the browser, with no build step.
 */
export const graphiqlScript = String.raw`(() => {
  'use strict';
  const options = JSON.parse(document.getElementById('cairn-graphiql-options').textContent);
  const endpoint = new URL(options.endpoint, location.href).toString();

  /** Results a subscription's pane keeps; older ones are dropped (the count goes on). */
  const kept = 200;

  const operationOf = (document, name) => {
    const operations = (document && document.definitions || []).filter((d) => d.kind === 'OperationDefinition');
    return name ? operations.find((d) => d.name && d.name.value === name) : operations.length === 1 ? operations[0] : undefined;
  };

  const post = (params, headers, accept, signal) =>
    fetch(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept, ...options.additionalHeaders, ...headers },
      body: JSON.stringify({ query: params.query, variables: params.variables, operationName: params.operationName || undefined }),
      signal,
    });

  const answer = async (response) => {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { errors: [{ message: 'HTTP ' + response.status + ': ' + text.slice(0, 500) }] };
    }
  };

  /** The SSE messages of a response body: { event, data } for each, comments skipped. */
  async function* messages(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length || event !== 'message') yield { event, data: data.join('\n') };
      }
    }
  }

  /**
   * The pane's view of a subscription: how many results came, the newest first, and why it ended
   * when it did. (A view GraphiQL stopped stays as it was: after a stop, nothing may be written to
   * the pane, which may belong to another tab by then.)
   */
  const view = (received, results, ended) => ({ received, newestFirst: results.slice().reverse(), ...(ended && { ended }) });

  async function* accumulate(params, headers, signal) {
    const results = [];
    let received = 0;
    try {
      const response = await post(params, headers, 'text/event-stream', signal);
      if (!(response.headers.get('content-type') || '').includes('text/event-stream')) {
        yield await answer(response);
        return;
      }
      yield view(received, results);
      for await (const { event, data } of messages(response.body)) {
        if (event === 'next') {
          received += 1;
          results.push(JSON.parse(data));
          if (results.length > kept) results.shift();
          yield view(received, results);
        } else if (event === 'complete') {
          yield view(received, results, 'complete');
          return;
        }
      }
      yield view(received, results, 'connection lost: run it again, with after: the last position, to resume');
    } catch (error) {
      if (signal.aborted) return; // stopped: nothing more to show (the pane may belong to another tab by now)
      yield view(received, results, 'connection lost: ' + (error && error.message));
    }
  }

  /** An iterator GraphiQL can stop at any time: return() aborts the request at once. */
  const subscription = (params, headers) => {
    const abort = new AbortController();
    const results = accumulate(params, headers, abort.signal);
    const iterator = {
      next: () => results.next(),
      return: (value) => {
        abort.abort();
        return Promise.resolve({ value, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  };

  const fetcher = (params, context) => {
    const headers = (context && context.headers) || {};
    const operation = operationOf(context && context.documentAST, params.operationName);
    if (operation && operation.operation === 'subscription') return subscription(params, headers);
    return post(params, headers, 'application/graphql-response+json, application/json').then(answer);
  };

  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), { ...options.graphiql, fetcher });
})();
`;
