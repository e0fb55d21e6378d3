import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { ipynbToYDoc, yDocToIpynb } from '../ipynb/convert.ts';
import { fileNbformat, parseIpynb } from '../ipynb/parse.ts';
import { serializeIpynb } from '../ipynb/serialize.ts';

/** An .ipynb file read and checked: the notebook as a Yjs update, and what its import record needs. */
export interface ReadIpynb {
  /** `Y.encodeStateAsUpdate` of the notebook's document (apply it to an empty Y.Doc). */
  update: Uint8Array;
  /** The file's nbformat major version (2 and 3 were upgraded to 4). */
  nbformat: number;
  /** SHA-256 of nbformat's canonical form of the notebook, for nbformat 4 files (null otherwise). */
  canonicalSha256: string | null;
}

/** Parses, validates and converts an .ipynb file; throws VALIDATION_FAILED for anything that is not a notebook. */
export function readIpynb(text: string): ReadIpynb {
  const parsed = parseIpynb(text);
  const doc = ipynbToYDoc(parsed);
  const nbformat = fileNbformat(parsed);
  const canonicalSha256 =
    nbformat === 4
      ? createHash('sha256')
          .update(serializeIpynb(yDocToIpynb(doc)))
          .digest('hex')
      : null;
  return { update: Y.encodeStateAsUpdate(doc), nbformat, canonicalSha256 };
}
