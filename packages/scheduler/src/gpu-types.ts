/** A GPU product Kiln knows how to ask for, with the names nvidia-smi reports for it. */
export interface GpuType {
  name: GpuTypeName;
  memoryGiB: number;
  /** Most devices of this type one request may ask for. */
  maxCount: number;
  /** Lower-case substrings of nvidia-smi's `name` that identify this type (checked in order). */
  matches: (name: string, memoryMiB: number) => boolean;
}

export const GPU_TYPE_NAMES = [
  'T4',
  'L4',
  'A10',
  'L40S',
  'A100-40GB',
  'A100-80GB',
  'RTX-PRO-6000',
  'H100',
  'H200',
  'B200',
] as const;

export type GpuTypeName = (typeof GPU_TYPE_NAMES)[number];

const has = (name: string, ...parts: string[]) => parts.every((part) => name.toLowerCase().includes(part));

/** The catalog, in the order nvidia-smi names are matched (more specific names first). */
export const GPU_TYPES: readonly GpuType[] = [
  { name: 'T4', memoryGiB: 16, maxCount: 8, matches: (n) => has(n, 't4') },
  { name: 'L40S', memoryGiB: 48, maxCount: 8, matches: (n) => has(n, 'l40s') },
  { name: 'L4', memoryGiB: 24, maxCount: 8, matches: (n) => /\bl4\b/i.test(n) },
  // A10 machines top out at 4 devices in every cloud Kiln targets.
  { name: 'A10', memoryGiB: 24, maxCount: 4, matches: (n) => /\ba10g?\b/i.test(n) },
  { name: 'A100-80GB', memoryGiB: 80, maxCount: 8, matches: (n, mem) => has(n, 'a100') && mem > 50_000 },
  { name: 'A100-40GB', memoryGiB: 40, maxCount: 8, matches: (n, mem) => has(n, 'a100') && mem <= 50_000 },
  { name: 'RTX-PRO-6000', memoryGiB: 96, maxCount: 8, matches: (n) => has(n, 'rtx pro 6000') },
  { name: 'H100', memoryGiB: 80, maxCount: 8, matches: (n) => has(n, 'h100') },
  { name: 'H200', memoryGiB: 141, maxCount: 8, matches: (n) => has(n, 'h200') },
  { name: 'B200', memoryGiB: 180, maxCount: 8, matches: (n) => has(n, 'b200') },
];

/** Looks a type up by its Kiln name, case-insensitively (`a100-80gb` works). */
export function findGpuType(name: string): GpuType | undefined {
  const wanted = name.trim().toUpperCase();
  return GPU_TYPES.find((type) => type.name === wanted);
}

/** Maps an nvidia-smi product name (and memory) to a Kiln type, or undefined for unknown products. */
export function gpuTypeFromProductName(productName: string, memoryMiB: number): GpuTypeName | undefined {
  return GPU_TYPES.find((type) => type.matches(productName, memoryMiB))?.name;
}
