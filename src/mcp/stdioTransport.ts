import type { Readable, Writable } from 'node:stream';
import { INVALID_REQUEST, PARSE_ERROR, parseJSONRPCMessage, serializeMessage } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, RequestId, Transport } from '@modelcontextprotocol/server';

const ID_VALUE = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
/** `{"jsonrpc":"2.0","id":7,…` or `{"method":"…","id":7,…`: the id among the first short members of the object. */
const LEADING_ID = new RegExp(String.raw`^\s*\{\s*(?:"(?:jsonrpc|method)"\s*:\s*"[^"]*"\s*,\s*)*"id"\s*:\s*${ID_VALUE}`);
/**
 * `…,"id":7}` at the very end: one closing brace after the value means the id is a member of the outermost object
 * (an `"id"` inside `params` would be followed by more than one). The SDKs' clients write the id last.
 */
const TRAILING_ID = new RegExp(String.raw`"id"\s*:\s*${ID_VALUE}\s*\}\s*$`);

/**
 * The request id of a JSON-RPC message too large to parse, from its first and last bytes, so that the error
 * answering it reaches the request that is waiting; undefined when neither end shows it.
 */
function requestIdOf(head: string, tail: string): RequestId | undefined {
  const match = LEADING_ID.exec(head) ?? TRAILING_ID.exec(tail);
  if (!match) return undefined;
  return match[1]!.startsWith('"') ? (JSON.parse(match[1]!) as string) : Number(match[1]);
}

/** How much of an oversized line is kept to find its request id: the start and the end of the message. */
const PEEK_BYTES = 1024;

export interface StdioLineTransportOptions {
  /** The largest message read; a longer line is answered with an error naming this limit, and skipped. */
  maxMessageBytes: number;
  stdin?: Readable;
  stdout?: Writable;
  /**
   * Called with each message read; a message for which it returns a promise is handed on once that settles, and the
   * messages after it wait their turn (a listen stream waits until changes are watched, so none is missed).
   */
  before?: (message: JSONRPCMessage) => Promise<void> | undefined;
  /** Told of each message as parsed from its text, in the order read, before it is handed on. */
  read?: (message: unknown) => void;
}

/** How long a transport whose client closed stdin waits for the answers still owed before it closes anyway. */
const ANSWER_WAIT_MS = 60_000;

/**
 * MCP's stdio binding, newline-delimited JSON-RPC, that answers what the SDK's `StdioServerTransport` drops: a
 * line that is not JSON gets a parse error, JSON that is not JSON-RPC an invalid-request error, and a line longer
 * than the limit an error naming the limit — and the session goes on. (The SDK's transport skips unparsable lines
 * in silence and closes the whole session when one message outgrows its buffer, dropping every queued call.)
 * An oversized line is never held in memory: its bytes are counted and dropped, keeping only its start and end,
 * where a client puts the request id.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Resolves once the transport has closed (stdin ended, or `close()`). */
  readonly closed: Promise<void>;

  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private oversized?: { head: Buffer; tail: Buffer; bytes: number };
  private isClosed = false;
  private resolveClosed!: () => void;
  /** Requests read and not answered yet; once stdin ends, the transport closes when this is empty. */
  private readonly unanswered = new Set<RequestId>();
  private allAnswered?: () => void;
  /** Set while a message waits on `before`: the messages read meanwhile queue behind it. */
  private waiting?: Promise<void>;

  constructor(private readonly options: StdioLineTransportOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('error', this.onStreamError);
    this.stdout.on('error', this.onStreamError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if ('id' in message && !('method' in message) && message.id !== undefined) this.settle(message.id);
    return new Promise((resolve, reject) => {
      if (this.stdout.write(serializeMessage(message), (error) => error && reject(error))) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.pause();
    this.onclose?.();
    this.resolveClosed();
  }

  private readonly onData = (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
    this.append(chunk.subarray(start));
  };

  /**
   * The client closed its end: the requests it sent are still answered (the SDK's transport aborts them), then the
   * transport closes. A request that never answers holds the process at most ANSWER_WAIT_MS.
   */
  private readonly onEnd = () => {
    const answered = new Promise<void>((resolve) => {
      this.allAnswered = resolve;
      if (this.unanswered.size === 0) resolve();
    });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, ANSWER_WAIT_MS).unref());
    void Promise.race([answered, timeout]).then(() => this.close());
  };

  private settle(id: RequestId) {
    this.unanswered.delete(id);
    if (this.unanswered.size === 0) this.allAnswered?.();
  }

  private readonly onStreamError = (error: Error) => this.onerror?.(error);

  private append(part: Buffer) {
    if (part.length === 0) return;
    if (this.oversized) {
      this.oversized.bytes += part.length;
      this.oversized.tail = lastBytes(Buffer.concat([this.oversized.tail, part.subarray(-PEEK_BYTES)]));
      return;
    }
    if (this.lineBytes + part.length <= this.options.maxMessageBytes) {
      this.line.push(part);
      this.lineBytes += part.length;
      return;
    }
    const start = Buffer.concat([...this.line, part]);
    this.oversized = { head: Buffer.from(start.subarray(0, PEEK_BYTES)), tail: lastBytes(start), bytes: start.length };
    this.line = [];
    this.lineBytes = 0;
  }

  private endLine() {
    if (this.oversized) {
      const { head, tail, bytes } = this.oversized;
      this.oversized = undefined;
      const limit = this.options.maxMessageBytes;
      this.refuse(requestIdOf(head.toString('utf8'), tail.toString('utf8')), INVALID_REQUEST, `request too large: ${bytes} bytes, over the limit of ${limit} bytes (${limit / 1048576} MiB); nothing of it was read`, {
        limit_bytes: limit,
        received_bytes: bytes,
      });
      return;
    }
    const text = (this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line)).toString('utf8').replace(/\r$/, '');
    this.line = [];
    this.lineBytes = 0;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.refuse(undefined, PARSE_ERROR, `Parse error: ${(error as Error).message}`);
      return;
    }
    this.options.read?.(value);
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      const id = (value as { id?: unknown } | null)?.id;
      this.refuse(typeof id === 'string' || typeof id === 'number' ? id : undefined, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response');
      return;
    }
    // A listen request is a stream, answered only when it ends: it is not a call owed an answer before exit.
    if ('method' in message && 'id' in message && message.method !== 'subscriptions/listen') this.unanswered.add(message.id);
    this.deliver(message);
  }

  private deliver(message: JSONRPCMessage) {
    if (this.waiting) {
      const turn = (this.waiting = this.waiting.then(() => this.onmessage?.(message)));
      void turn.then(() => this.waiting === turn && (this.waiting = undefined));
      return;
    }
    const gate = this.options.before?.(message);
    if (!gate) return this.onmessage?.(message);
    const turn = (this.waiting = gate.catch(() => {}).then(() => this.onmessage?.(message)));
    void turn.then(() => this.waiting === turn && (this.waiting = undefined));
  }

  /**
   * Answers a message the session cannot take. Without a request id the answer has none: MCP's schema makes the id
   * of an error response optional and allows no `null` (JSON-RPC 2.0 itself would send `null`).
   */
  private refuse(id: RequestId | undefined, code: number, message: string, data?: Record<string, unknown>) {
    this.onerror?.(new Error(message));
    this.send({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), error: { code, message, ...(data ? { data } : {}) } } as JSONRPCMessage).catch((error) => this.onerror?.(error));
  }
}

const lastBytes = (buffer: Buffer) => Buffer.from(buffer.subarray(Math.max(0, buffer.length - PEEK_BYTES)));
