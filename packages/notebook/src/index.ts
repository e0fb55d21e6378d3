export { repairDuplicateCells, watchCellIdentity } from './document/cell-identity.ts';
export { CELL_ID_PATTERN, isValidCellId, randomCellId } from './document/cell-ids.ts';
export {
  cellToJson,
  createYCell,
  createYOutput,
  deleteCell,
  findCell,
  findCellIndex,
  getCellId,
  getCellOutputs,
  insertCell,
  moveCell,
  type NewCell,
  outputToJson,
} from './document/cells.ts';
export {
  getCellMetadata,
  getNotebookMetadata,
  setCellMetadata,
  setNotebookMetadata,
} from './document/metadata.ts';
export {
  type CreateNotebookOptions,
  createNotebookDoc,
  getCells,
  getNbformatMinor,
  NBFORMAT_MAJOR,
  NBFORMAT_MINOR,
  type NotebookParts,
  notebookParts,
  upgradeToNbformat45,
  type YCell,
  type YOutput,
} from './document/notebook-doc.ts';
export {
  type CellRunInfo,
  markRunCost,
  markRunEnded,
  markRunStarted,
  RUN_METADATA_KEY,
  readRunInfo,
} from './document/run-metadata.ts';
export type {
  CellJson,
  ExecutionState,
  JsonObject,
  JsonValue,
  NotebookJson,
  OutputJson,
} from './document/types.ts';
export {
  createFunctionFileDoc,
  DEFAULT_FUNCTION_SOURCE,
  FUNCTION_CALL_CELL,
  FUNCTION_MODULE_CELL,
  functionCallSource,
  functionFileCells,
  functionModuleSource,
  listModuleFunctions,
  type ModuleFunction,
} from './function-file/function-file.ts';
export { findDisplayOutputs, updateDisplayOutputs } from './outputs/display-updates.ts';
export {
  DEFAULT_OUTPUT_LIMITS,
  defaultTruncationNote,
  formatBytes,
  type OutputLimits,
  type TruncationInfo,
} from './outputs/limits.ts';
export { type IopubMessage, outputFromMessage } from './outputs/messages.ts';
export { OutputWriter, type OutputWriterOptions, type OverflowEvent } from './outputs/output-writer.ts';
export { appendStreamText, renderTerminalLine, type StreamColumn } from './outputs/terminal-text.ts';
