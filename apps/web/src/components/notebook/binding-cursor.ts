import type { MonacoBinding } from 'y-monaco';
import * as Y from 'yjs';
import type { monaco } from './monaco.ts';

type Editor = monaco.editor.IStandaloneCodeEditor;

/** What y-monaco 0.1.x keeps of an editor's selection across a remote change (its RelativeSelection). */
interface SavedSelection {
  start: Y.RelativePosition;
  end: Y.RelativePosition;
  direction: monaco.SelectionDirection;
}

/** The parts of y-monaco's MonacoBinding this module replaces (not in its public types). */
interface BindingInternals {
  doc: Y.Doc;
  mux: (f: () => void) => void;
  _beforeTransaction: () => void;
  _savedSelections: Map<Editor, SavedSelection>;
}

/**
 * Makes a remote insert at your cursor land after it, as in Google Docs and VS Code Live Share.
 * y-monaco saves each selection as Yjs relative positions tied to the character on their right, so
 * a collaborator's character typed at your cursor pushed your cursor past it, and two people typing
 * at the same spot interleaved keystroke by keystroke. Tying a cursor (and a selection's end) to the
 * character on its left keeps each person's text together; a selection's start stays tied right so
 * text inserted at either edge lands outside the selection.
 */
export function keepCursorsBeforeRemoteInserts(
  binding: MonacoBinding,
  editor: Editor,
  model: monaco.editor.ITextModel,
  text: Y.Text,
): void {
  const internals = binding as unknown as BindingInternals;
  internals.doc.off('beforeAllTransactions', internals._beforeTransaction);
  internals._beforeTransaction = () => {
    internals.mux(() => {
      internals._savedSelections = new Map();
      const selection = editor.getSelection();
      if (selection === null || editor.getModel() !== model) return;
      const start = model.getOffsetAt(selection.getStartPosition());
      const end = model.getOffsetAt(selection.getEndPosition());
      internals._savedSelections.set(editor, {
        start: Y.createRelativePositionFromTypeIndex(text, start, start === end ? -1 : 0),
        end: Y.createRelativePositionFromTypeIndex(text, end, -1),
        direction: selection.getDirection(),
      });
    });
  };
  // binding.destroy() unregisters whatever this property holds, so the replacement is cleaned up too.
  internals.doc.on('beforeAllTransactions', internals._beforeTransaction);
}
