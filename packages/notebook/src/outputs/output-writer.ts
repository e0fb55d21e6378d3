import * as Y from 'yjs';
import { createYOutput } from '../document/cells.ts';
import { notebookParts, type YCell, type YOutput } from '../document/notebook-doc.ts';
import type { JsonObject, OutputJson } from '../document/types.ts';
import { updateDisplayOutputs } from './display-updates.ts';
import {
  DEFAULT_OUTPUT_LIMITS,
  defaultTruncationNote,
  type OutputLimits,
  type TruncationInfo,
  utf8Length,
  utf8Prefix,
} from './limits.ts';
import { type IopubMessage, messageDisplayId, outputFromMessage } from './messages.ts';
import { appendStreamText, type StreamTail } from './terminal-text.ts';

/** What `onOverflow` receives for output that did not fit in the document. */
export interface OverflowEvent {
  cellId: string;
  /** Stable for one truncated output (or for the dropped outputs of one cell): chunks with one key belong together. */
  key: string;
  kind: TruncationInfo['kind'];
  /** For `stream`: the next chunk of text. The first chunk starts with the text kept in the notebook, so joining a key's chunks gives the whole stream. */
  text?: string;
  /** For `data` and `outputs`: the whole output that was cut or dropped. */
  output?: OutputJson;
  totalBytes: number;
}

export interface OutputWriterOptions {
  doc: Y.Doc;
  /** The cell being executed; found by id on every message, so moving the cell meanwhile is fine. */
  cellId: string;
  limits?: Partial<OutputLimits>;
  /** Receives everything cut from the document, so the server can keep the full output for download. */
  onOverflow?: (event: OverflowEvent) => void;
  /** The note shown where output was cut. */
  truncationNote?: (info: TruncationInfo) => string;
  /** Yjs transaction origin for the writer's edits. */
  origin?: unknown;
}

interface StreamState {
  tail: StreamTail | null;
  /** UTF-8 bytes now in the Y.Text (without the note). */
  docBytes: number;
  /** Every byte the kernel sent to this output. */
  totalBytes: number;
  truncated: boolean;
  noteStart: number;
  note: string;
  key: string;
}

let overflowCounter = 0;

/**
 * Writes one execution's iopub messages into a cell's outputs with JupyterLab's rules: stream
 * fragments of one name merge into the last output, `\r`/`\b` redraw in place, `clear_output(wait)`
 * waits for the next output, `update_display_data` rewrites every output with that display id,
 * and oversized output is capped with a visible note.
 */
export class OutputWriter {
  private readonly doc: Y.Doc;
  private readonly cellId: string;
  private readonly limits: OutputLimits;
  private readonly onOverflow?: (event: OverflowEvent) => void;
  private readonly note: (info: TruncationInfo) => string;
  private readonly origin: unknown;
  private cell: YCell | undefined;
  private clearPending = false;
  private streams = new WeakMap<YOutput, StreamState>();
  private dropped = { count: 0, bytes: 0, note: undefined as YOutput | undefined, key: '' };

  constructor(options: OutputWriterOptions) {
    this.doc = options.doc;
    this.cellId = options.cellId;
    this.limits = { ...DEFAULT_OUTPUT_LIMITS, ...options.limits };
    this.onOverflow = options.onOverflow;
    this.note = options.truncationNote ?? defaultTruncationNote;
    this.origin = options.origin;
  }

  /** Start of an execution, as JupyterLab does it: outputs cleared, count reset, state `running`. */
  begin(): void {
    this.transact((cell) => {
      this.clearNow(cell);
      cell.set('execution_count', null);
      cell.set('execution_state', 'running');
    });
  }

  /** End of an execution: state back to `idle` (a pending `clear_output(wait)` stays pending, as in JupyterLab). */
  end(executionCount?: number | null): void {
    this.transact((cell) => {
      if (executionCount !== undefined) cell.set('execution_count', executionCount);
      cell.set('execution_state', 'idle');
    });
  }

  /** Apply one iopub message. Messages that do not touch outputs are ignored. */
  handle(message: IopubMessage): void {
    const type = message.header.msg_type;
    if (type === 'clear_output') {
      if (message.content.wait) this.clearPending = true;
      else this.transact((cell) => this.clearNow(cell));
    } else if (type === 'update_display_data') {
      const id = messageDisplayId(message);
      if (id === undefined) return;
      const output = outputFromMessage({ header: { msg_type: 'display_data' }, content: message.content });
      if (!output) return;
      this.doc.transact(() => {
        const capped = this.capRichOutput(output);
        updateDisplayOutputs(this.doc, id, capped.data as JsonObject, capped.metadata as JsonObject);
      }, this.origin);
    } else if (type === 'execute_input') {
      const count = message.content.execution_count;
      if (typeof count === 'number') this.transact((cell) => cell.set('execution_count', count));
    } else {
      const output = outputFromMessage(message);
      if (output) this.transact((cell) => this.add(cell, output));
    }
  }

  private transact(fn: (cell: YCell) => void): void {
    this.doc.transact(() => {
      const cell = this.findCell();
      if (cell) fn(cell);
    }, this.origin);
  }

  /** The cell by id; a moved cell is a new Y.Map, so a deleted cached map means look again. */
  private findCell(): YCell | undefined {
    if (this.cell?.doc && !this.cell._item?.deleted) return this.cell;
    this.cell = notebookParts(this.doc)
      .cells.toArray()
      .find((cell) => cell.get('id') === this.cellId);
    return this.cell;
  }

  private outputs(cell: YCell): Y.Array<YOutput> {
    let outputs = cell.get('outputs');
    if (!(outputs instanceof Y.Array)) {
      outputs = new Y.Array<YOutput>();
      cell.set('outputs', outputs);
    }
    return outputs as Y.Array<YOutput>;
  }

  private clearNow(cell: YCell): void {
    const outputs = this.outputs(cell);
    if (outputs.length > 0) outputs.delete(0, outputs.length);
    this.clearPending = false;
    this.streams = new WeakMap();
    this.dropped = { count: 0, bytes: 0, note: undefined, key: '' };
  }

  private add(cell: YCell, output: OutputJson): void {
    if (this.clearPending) this.clearNow(cell);
    const outputs = this.outputs(cell);
    if (output.output_type === 'stream') {
      const last = outputs.length > 0 ? outputs.get(outputs.length - 1) : undefined;
      if (
        last?.get('output_type') === 'stream' &&
        last.get('name') === output.name &&
        last.get('text') instanceof Y.Text
      ) {
        this.appendStream(last, output.text as string);
        return;
      }
      if (!this.makeRoom(outputs, output)) return;
      const created = createYOutput({ ...output, text: '' });
      outputs.push([created]);
      this.appendStream(created, output.text as string);
      return;
    }
    if (this.makeRoom(outputs, output)) outputs.push([createYOutput(this.capRichOutput(output))]);
  }

  /** Whether another output fits in the cell; if not, the output goes to `onOverflow` and a note counts it. */
  private makeRoom(outputs: Y.Array<YOutput>, output: OutputJson): boolean {
    if (outputs.length < this.limits.maxOutputsPerCell) return true;
    const dropped = this.dropped;
    if (!dropped.key) dropped.key = this.newKey();
    dropped.count++;
    const bytes = utf8Length(JSON.stringify(output));
    dropped.bytes += bytes;
    this.onOverflow?.({
      cellId: this.cellId,
      key: dropped.key,
      kind: 'outputs',
      output,
      totalBytes: dropped.bytes,
    });
    const text = this.note({
      kind: 'outputs',
      totalBytes: dropped.bytes,
      droppedOutputs: dropped.count,
      key: dropped.key,
    });
    if (dropped.note && !dropped.note._item?.deleted) {
      dropped.note.set('data', { 'text/plain': text });
    } else {
      dropped.note = createYOutput({
        output_type: 'display_data',
        data: { 'text/plain': text },
        metadata: {},
      });
      outputs.push([dropped.note]);
    }
    return false;
  }

  private newKey(): string {
    overflowCounter = (overflowCounter + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.cellId}-${Date.now().toString(36)}-${overflowCounter.toString(36)}`;
  }

  /** A rich output whose data is over the byte cap keeps only a note; the whole output goes to `onOverflow`. */
  private capRichOutput(output: OutputJson): OutputJson {
    if (output.output_type !== 'display_data' && output.output_type !== 'execute_result') return output;
    const bytes = utf8Length(JSON.stringify(output.data ?? {}));
    if (bytes <= this.limits.maxOutputBytes) return output;
    const key = this.newKey();
    this.onOverflow?.({ cellId: this.cellId, key, kind: 'data', output, totalBytes: bytes });
    const text = this.note({ kind: 'data', totalBytes: bytes, droppedOutputs: 0, key });
    return { ...output, data: { 'text/plain': text }, metadata: {} };
  }

  private streamState(output: YOutput, text: Y.Text): StreamState {
    let state = this.streams.get(output);
    if (!state) {
      const bytes = utf8Length(text.toString());
      state = {
        tail: null,
        docBytes: bytes,
        totalBytes: bytes,
        truncated: false,
        noteStart: 0,
        note: '',
        key: '',
      };
      this.streams.set(output, state);
    }
    return state;
  }

  private appendStream(output: YOutput, fragment: string): void {
    const text = output.get('text') as Y.Text;
    const state = this.streamState(output, text);
    const fragmentBytes = utf8Length(fragment);
    state.totalBytes += fragmentBytes;
    if (state.truncated) {
      this.onOverflow?.({
        cellId: this.cellId,
        key: state.key,
        kind: 'stream',
        text: fragment,
        totalBytes: state.totalBytes,
      });
      this.writeStreamNote(text, state);
      return;
    }
    const room = this.limits.maxOutputBytes - state.docBytes;
    // A redraw can shrink the text, so only plain appends that clearly overflow are cut here.
    const fits = fragmentBytes <= room;
    const kept = fits ? fragment : utf8Prefix(fragment, Math.max(0, room));
    const result = appendStreamText(text, kept, state.tail);
    state.tail = result.tail;
    state.docBytes += utf8Length(result.inserted) - utf8Length(result.removed);
    if (fits && state.docBytes <= this.limits.maxOutputBytes) return;
    state.truncated = true;
    state.key = this.newKey();
    const head = text.toString();
    this.onOverflow?.({
      cellId: this.cellId,
      key: state.key,
      kind: 'stream',
      text: head + fragment.slice(kept.length),
      totalBytes: state.totalBytes,
    });
    state.noteStart = text.length;
    this.writeStreamNote(text, state);
  }

  private writeStreamNote(text: Y.Text, state: StreamState): void {
    const note = `\n${this.note({ kind: 'stream', totalBytes: state.totalBytes, droppedOutputs: 0, key: state.key })}`;
    if (note === state.note) return;
    if (state.note) text.delete(state.noteStart, state.note.length);
    text.insert(state.noteStart, note);
    state.note = note;
  }
}
