import { randomUUID } from 'node:crypto';
import { rawContent } from './raw-content.ts';
import type { JupyterMessage } from './types.ts';

/** Session id of messages the gateway itself originates (kernel_info probes, synthesized replies). */
export const GATEWAY_SESSION = randomUUID();

/** A Jupyter message in `session`, with a fresh id; `parent` routes it to the request it answers. */
export function buildMessage(options: {
  channel: JupyterMessage['channel'];
  msgType: string;
  content: Record<string, unknown>;
  session: string;
  parent?: JupyterMessage['header'] | Record<string, unknown>;
  buffers?: Uint8Array[];
}): JupyterMessage {
  return {
    channel: options.channel,
    header: {
      msg_id: randomUUID(),
      msg_type: options.msgType,
      session: options.session,
      username: 'kiln',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: options.parent ? { ...options.parent } : {},
    metadata: {},
    content: options.content,
    buffers: options.buffers ?? [],
  };
}

/** Builds a message the gateway sends on its own behalf; `parent` routes it to the request it answers. */
export function createMessage(
  channel: JupyterMessage['channel'],
  msgType: string,
  content: Record<string, unknown>,
  parent?: JupyterMessage['header'] | Record<string, unknown>,
): JupyterMessage {
  return buildMessage({ channel, msgType, content, session: GATEWAY_SESSION, parent });
}

/**
 * Kiln's optional output acknowledgement (plain Jupyter clients never see it). A client that opens the
 * channels websocket with `?kiln_ack=<msg_id of the last message it stored, or empty>` sends
 * `kiln_ack` messages with `{ msg_id }` once everything it received up to that message is stored; the
 * gateway keeps what it sent the session and was not acknowledged, and replays it on the session's
 * next attach, after the message the client says it stored last.
 */
export const KILN_ACK = 'kiln_ack';

/** The reply type for a request type (`execute_request` -> `execute_reply`). */
export function replyType(requestType: string): string {
  return requestType.endsWith('_request') ? `${requestType.slice(0, -'_request'.length)}_reply` : 'error';
}

/** Request types a Jupyter kernel understands, per channel (protocol 5.3-5.5). */
export const KNOWN_REQUESTS: Record<string, ReadonlySet<string>> = {
  shell: new Set([
    'execute_request',
    'inspect_request',
    'complete_request',
    'history_request',
    'is_complete_request',
    'comm_info_request',
    'kernel_info_request',
    'shutdown_request',
    'comm_open',
    'comm_msg',
    'comm_close',
    'create_subshell_request',
    'delete_subshell_request',
    'list_subshell_request',
  ]),
  control: new Set([
    'shutdown_request',
    'interrupt_request',
    'debug_request',
    'kernel_info_request',
    'usage_request',
    'create_subshell_request',
    'delete_subshell_request',
    'list_subshell_request',
  ]),
  stdin: new Set(['input_reply']),
  iopub: new Set([]),
};

/** iopub messages that are program output (count as activity, may be dropped when a buffer overflows). */
export const OUTPUT_TYPES: ReadonlySet<string> = new Set([
  'stream',
  'display_data',
  'update_display_data',
  'execute_result',
  'execute_input',
  'clear_output',
  'error',
]);

/** Approximate wire size of a message, for buffer accounting. */
export function messageSize(message: JupyterMessage): number {
  // Raw content's byte length is close enough and keeps the content unparsed.
  let size = 512 + (rawContent(message)?.byteLength ?? JSON.stringify(message.content).length);
  for (const buffer of message.buffers) size += buffer.byteLength;
  return size;
}

/** A `<type>_reply` with status error, answering `request`. */
export function errorReply(request: JupyterMessage, ename: string, evalue: string): JupyterMessage {
  return createMessage(
    request.channel,
    replyType(request.header.msg_type),
    { status: 'error', ename, evalue, traceback: [] },
    request.header,
  );
}

/** The message of an unknown thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
