/** Dollars from nano-dollars, with enough digits that a request's fraction of a cent shows. */
export function formatNanoDollars(nanos: number | null | undefined): string {
  if (nanos === null || nanos === undefined) return '—';
  const dollars = nanos / 1_000_000_000;
  if (dollars === 0) return '$0';
  if (dollars < 0.01) return `$${dollars.toPrecision(2)}`;
  return `$${dollars.toFixed(4)}`;
}

/** "2 CPU · 4 GB · A100 or H100 · image probe": a replica's machine and image in one line. */
export function formatMachine(machine: {
  cpu: number;
  memoryMiB: number;
  gpu: string[];
  image: string | null;
}): string {
  const memoryGb = Math.round((machine.memoryMiB / 1024) * 10) / 10;
  const gpu = machine.gpu.length > 0 ? machine.gpu.join(' or ') : 'no GPU';
  const image = machine.image ? `image ${machine.image}` : 'base image';
  return `${machine.cpu} CPU · ${memoryGb} GB · ${gpu} · ${image}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Top-level functions a code cell defines (what "Deploy as endpoint" offers). */
export function definedFunctions(source: string): string[] {
  const names = [...source.matchAll(/^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1] as string);
  return [...new Set(names)];
}

/** A label from a function name: `predict_price` → `predict-price`. */
export function labelFor(functionName: string): string {
  return (
    functionName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'endpoint'
  );
}

/** Copy-ready calls of an endpoint. */
export function callExamples(
  url: string,
  isPublic: boolean,
  sample: string,
): { curl: string; python: string } {
  const auth = isPublic ? '' : ` \\\n  -H "Authorization: Bearer $KILN_TOKEN"`;
  const curl = `curl -X POST ${url}${auth} \\\n  -H "Content-Type: application/json" \\\n  -d '${sample}'`;
  const headers = isPublic
    ? '{"Content-Type": "application/json"}'
    : '{"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["KILN_TOKEN"]}';
  const python = [
    'import json, os, urllib.request',
    '',
    `request = urllib.request.Request(`,
    `    "${url}",`,
    `    data=${JSON.stringify(sample)}.encode(),`,
    `    headers=${headers},`,
    ')',
    'with urllib.request.urlopen(request) as response:',
    '    print(json.load(response))',
  ].join('\n');
  return { curl, python };
}
