/**
 * WebSocket text frames (RFC 6455 §5.2) as a server sends them: final, unmasked, uncompressed.
 * One frame per payload, each the same head, the payload and the same tail (a graphql-ws `next`
 * message: its id and type, a result's JSON, `}`), all in one buffer: a page of results leaves
 * as one write instead of two buffers and a string per message.
 */
export const textFrames = (head: Buffer, payloads: readonly Buffer[], tail: Buffer): Buffer => {
  const fixed = head.length + tail.length;
  let total = 0;
  for (const payload of payloads) total += headerLength(fixed + payload.length) + fixed + payload.length;
  const frames = Buffer.allocUnsafe(total);
  let at = 0;
  for (const payload of payloads) {
    const length = fixed + payload.length;
    frames[at++] = 0x81; // FIN, text
    if (length < 126) {
      frames[at++] = length;
    } else if (length < 0x1_0000) {
      frames[at++] = 126;
      frames.writeUInt16BE(length, at);
      at += 2;
    } else {
      frames[at++] = 127;
      frames.writeUInt32BE(Math.floor(length / 0x1_0000_0000), at);
      frames.writeUInt32BE(length >>> 0, at + 4);
      at += 8;
    }
    at += head.copy(frames, at);
    at += payload.copy(frames, at);
    at += tail.copy(frames, at);
  }
  return frames;
};

/** A frame header's bytes for a payload of this length. */
const headerLength = (length: number): number => (length < 126 ? 2 : length < 0x1_0000 ? 4 : 10);
