// Generated .ipynb files for the notebook-open benchmark: code cells with ~10 KB of stream output,
// a markdown cell every tenth position (from the sixth) and a handful of real (incompressible) PNG outputs.
// Deterministic, so every run opens the same bytes.
import { deflateSync } from 'node:zlib';

/** How one benchmark notebook is made. */
export interface NotebookShape {
  cells: number;
  /** Bytes of stdout text in each code cell's stream output. */
  streamBytes: number;
  /** How many code cells carry an image/png output instead of a stream. */
  images: number;
  /** Side of each square PNG, in pixels (noise, so it does not compress). */
  imageSide: number;
}

/** The notebook: 500 cells, about 5 MB of outputs. */
export const LARGE: NotebookShape = { cells: 500, streamBytes: 10 * 1024, images: 5, imageSide: 200 };
/** The in-run reference: the same mix at 20 cells. */
export const SMALL: NotebookShape = { cells: 20, streamBytes: 10 * 1024, images: 1, imageSide: 200 };

/** A small seeded PRNG (mulberry32), so the files are the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG of noise, as base64 (what Jupyter stores under image/png). */
export function noisePng(side: number, next: () => number): string {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows = Buffer.alloc(side * (side * 3 + 1));
  for (let y = 0; y < side; y++) {
    const start = y * (side * 3 + 1);
    rows[start] = 0; // filter: none
    for (let x = 1; x <= side * 3; x++) rows[start + x] = Math.floor(next() * 256);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]).toString('base64');
}

function streamText(bytes: number, cell: number, next: () => number): string {
  const lines: string[] = [];
  let size = 0;
  for (let step = 0; size < bytes; step++) {
    const loss = (2 / (1 + step / 40) + next() * 0.05).toFixed(6);
    const accuracy = (0.5 + 0.45 * (1 - Math.exp(-step / 60)) + next() * 0.01).toFixed(4);
    const line = `cell ${cell} epoch ${Math.floor(step / 25)} step ${step}: loss=${loss} acc=${accuracy} lr=3e-4\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

/** Splits text into Jupyter's list-of-lines form (each line keeps its newline). */
function sourceLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** Builds the notebook; returns its JSON text and the bytes its outputs hold. */
export function makeNotebook(shape: NotebookShape): { content: string; outputBytes: number; counts: Counts } {
  const next = random(0x6b696c6e + shape.cells);
  const imageEvery = shape.images > 0 ? Math.floor(shape.cells / shape.images) : Number.POSITIVE_INFINITY;
  const cells: unknown[] = [];
  const counts: Counts = { code: 0, markdown: 0, images: 0 };
  let outputBytes = 0;
  let execution = 0;
  for (let i = 0; i < shape.cells; i++) {
    // Cell 1 is code, so it has the Monaco editor the benchmark waits for.
    if (i % 10 === 5) {
      counts.markdown++;
      const section = (i - 5) / 10;
      const text = `## Section ${section + 1}\n\nThis part trains model variant **${section}** and plots its loss.\n`;
      cells.push({ cell_type: 'markdown', id: `md-${i}`, metadata: {}, source: sourceLines(text) });
      continue;
    }
    counts.code++;
    execution++;
    const source = `for step in range(steps):\n    loss = train_step(model, batch(step), lr=3e-4)\n    print(f"cell ${i} step {step}: loss={loss:.6f}")\n`;
    let output: unknown;
    if (i % imageEvery === imageEvery - 1 && counts.images < shape.images) {
      counts.images++;
      const png = noisePng(shape.imageSide, next);
      outputBytes += png.length;
      output = {
        output_type: 'display_data',
        data: { 'image/png': png, 'text/plain': ['<Figure size 640x480 with 1 Axes>'] },
        metadata: {},
      };
    } else {
      const text = streamText(shape.streamBytes, i, next);
      outputBytes += text.length;
      output = { output_type: 'stream', name: 'stdout', text: sourceLines(text) };
    }
    cells.push({
      cell_type: 'code',
      id: `code-${i}`,
      execution_count: execution,
      metadata: {},
      source: sourceLines(source),
      outputs: [output],
    });
  }
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' },
    },
    cells,
  };
  return { content: `${JSON.stringify(notebook, null, 1)}\n`, outputBytes, counts };
}

export interface Counts {
  code: number;
  markdown: number;
  images: number;
}
