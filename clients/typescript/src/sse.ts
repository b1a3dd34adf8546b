/** One Server-Sent Event. */
export interface SSEMessage {
  /** The event name ("message" when the server named none). */
  event: string;
  data: string;
  /** The id field of this event, or undefined when it had none. */
  id?: string;
  /** The reconnection delay the server asked for, in milliseconds. */
  retry?: number;
}

/**
 * Reads Server-Sent Events from a byte stream, as the WHATWG event stream
 * format describes: lines end with CRLF, LF or CR; `:` starts a comment
 * (keep-alives); a blank line dispatches the event. Uses only
 * ReadableStream and TextDecoder, so it runs in browsers and Node alike.
 */
export async function* readSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  let first = true;
  try {
    for (let eof = false; !eof; ) {
      const { value, done } = await reader.read();
      eof = done;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        // A lone CR at the end of the buffer may be the first half of CRLF.
        if (m[0] === "\r" && m.index === buffer.length - 1 && !eof) break;
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === "") {
          if (data.length > 0) {
            const msg: SSEMessage = { event: event || "message", data: data.join("\n") };
            if (id !== undefined) msg.id = id;
            if (retry !== undefined) msg.retry = retry;
            yield msg;
          }
          event = "";
          data = [];
          id = undefined;
          retry = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value2 = colon < 0 ? "" : line.slice(colon + 1);
        if (value2.startsWith(" ")) value2 = value2.slice(1);
        switch (field) {
          case "event":
            event = value2;
            break;
          case "data":
            data.push(value2);
            break;
          case "id":
            if (!value2.includes("\0")) id = value2;
            break;
          case "retry":
            if (/^\d+$/.test(value2)) retry = Number(value2);
            break;
        }
      }
    }
  } finally {
    // Stops the download when the consumer stops early (return/throw).
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
