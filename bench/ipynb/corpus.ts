/**
 * .ipynb fidelity over a corpus of real notebooks (not part of `npm test`, which uses the fixtures in
 * packages/notebook/test/fixtures): for each file, whether it parses (nbformat 2/3 upgraded), whether
 * nbformat's canonical form reproduces it, and whether Kiln's writer in the file's own style does.
 * Downloads of unchanged imports are the stored file itself; the style column is what a changed
 * notebook keeps of its layout.
 *   npx tsx bench/ipynb/corpus.ts DIR      prints a table, writes bench/results/ipynb-corpus.md
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileNbformat, parseIpynb, serializeIpynb, serializeIpynbLike } from '@kiln/notebook/ipynb';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx bench/ipynb/corpus.ts DIR_OF_IPYNB_FILES');
  process.exit(2);
}
const rows: string[] = [
  '| file | nbformat | parses | nbformat form = file | Kiln style = file |',
  '|---|---|---|---|---|',
];
let canonical = 0;
let styled = 0;
let total = 0;
for (const file of readdirSync(dir)
  .filter((name) => name.endsWith('.ipynb'))
  .sort()) {
  const text = readFileSync(path.join(dir, file), 'utf8');
  total++;
  try {
    const nb = parseIpynb(text);
    const same = serializeIpynb(nb) === text;
    const like = serializeIpynbLike(nb, text) === text;
    canonical += Number(same);
    styled += Number(like);
    rows.push(`| ${file} | ${fileNbformat(nb)} | yes | ${same ? 'yes' : 'no'} | ${like ? 'yes' : 'no'} |`);
  } catch (error) {
    rows.push(`| ${file} | ? | no: ${(error as Error).message.slice(0, 80)} | | |`);
  }
}
const summary = `${total} files: nbformat's form reproduces ${canonical}, Kiln's style-preserving writer ${styled}.`;
const report = `# .ipynb corpus fidelity\n\n${summary}\n\n${rows.join('\n')}\n`;
console.log(report);
writeFileSync(path.join(import.meta.dirname, '../results/ipynb-corpus.md'), report);
