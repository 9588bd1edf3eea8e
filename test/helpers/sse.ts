/** One event of a `text/event-stream`: its `event:` name (when it has one) and its `data:` lines joined. */
export type SseEvent = { readonly event: string | undefined; readonly data: string };

/**
 * Splits a `text/event-stream` into events as its chunks arrive: feed each decoded chunk in and
 * get the events it completed. Comment blocks (yoga's `:` keep-alive pings) are skipped.
 */
export const sseParser = () => {
  let text = '';
  return (chunk: string): SseEvent[] => {
    text += chunk;
    const events: SseEvent[] = [];
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const lines = text.slice(0, end).split('\n');
      text = text.slice(end + 2);
      const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (event !== undefined || data) events.push({ event, data });
    }
    return events;
  };
};
