import { StringDecoder } from 'string_decoder';

/** One server-sent event as received: its text (with the blank line that ended it), `event:` name and joined `data:`. */
export interface SseEvent {
  raw: string;
  event: string | undefined;
  data: string;
}

/**
 * Splits a server-sent-events byte stream into events as chunks arrive (a chunk may hold part of an event or many).
 * Handles `\n`, `\r\n` and `\r` line ends. What is left when the stream ends is returned by `flush()`.
 */
export class SseSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';

  push(chunk: Buffer, onEvent: (e: SseEvent) => void): void {
    this.buf += this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const end = this.boundary(start);
      if (end < 0) break;
      const raw = this.buf.slice(start, end + this.sepLen);
      onEvent(parseEvent(raw));
      start = end + this.sepLen;
    }
    if (start > 0) this.buf = this.buf.slice(start);
  }

  /** The incomplete tail (a stream cut mid-event), parsed as an event when it has data. */
  flush(): SseEvent | null {
    this.buf += this.decoder.end();
    const raw = this.buf;
    this.buf = '';
    return raw.trim() ? parseEvent(raw) : null;
  }

  private sepLen = 2;

  /** Index of the next blank line (event end) from `from`, or -1; sets sepLen to its length. */
  private boundary(from: number): number {
    const b = this.buf;
    const lf = b.indexOf('\n\n', from);
    const crlf = b.indexOf('\r\n\r\n', from);
    if (crlf >= 0 && (lf < 0 || crlf < lf)) {
      this.sepLen = 4;
      return crlf;
    }
    if (lf >= 0) {
      this.sepLen = 2;
      return lf;
    }
    const cr = b.indexOf('\r\r', from);
    if (cr >= 0) {
      this.sepLen = 2;
      return cr;
    }
    return -1;
  }
}

function parseEvent(raw: string): SseEvent {
  let event: string | undefined;
  let data: string | undefined;
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line.startsWith('data:')) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : data + '\n' + v;
    } else if (line.startsWith('event:')) {
      event = (line.charCodeAt(6) === 32 ? line.slice(7) : line.slice(6)).trim();
    }
  }
  return { raw, event, data: data ?? '' };
}
