import { describe, expect, it } from 'vitest';
import { notebookNameFromFile } from './ipynb-file.ts';

describe('notebookNameFromFile', () => {
  it('drops the .ipynb extension, whatever its case', () => {
    expect(notebookNameFromFile('Analysis.ipynb')).toBe('Analysis');
    expect(notebookNameFromFile('report.v2.IPYNB')).toBe('report.v2');
  });

  it('keeps other extensions and names a nameless file', () => {
    expect(notebookNameFromFile('data.json')).toBe('data.json');
    expect(notebookNameFromFile('.ipynb')).toBe('Imported notebook');
  });

  it('fits the 200-character name limit', () => {
    expect(notebookNameFromFile(`${'n'.repeat(300)}.ipynb`)).toHaveLength(200);
  });
});
