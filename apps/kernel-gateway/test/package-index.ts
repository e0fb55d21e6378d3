import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

// Writes a pure-Python wheel by hand (a wheel is a zip with the module and a .dist-info folder), with
// the host's Debian Python: no build tools, no network.
const WHEEL_SCRIPT = `
import base64, hashlib, sys, zipfile
out, name, version, module, source = sys.argv[1:6]
dist = name.replace('-', '_')
path = f"{out}/{dist}-{version}-py3-none-any.whl"
files = {
  f"{module}/__init__.py": source,
  f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
  f"{dist}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: kiln-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(path, "w") as wheel:
  for file, text in files.items():
    data = text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{file},sha256={digest},{len(data)}")
    wheel.writestr(file, data)
  record.append(f"{dist}-{version}.dist-info/RECORD,,")
  wheel.writestr(f"{dist}-{version}.dist-info/RECORD", "\\n".join(record) + "\\n")
print(path)
`;

/** Builds `<name>-<version>-py3-none-any.whl` into `dir` with `module/__init__.py` = `source`. */
export function buildWheel(
  dir: string,
  wheel: { name: string; version: string; module: string; source: string },
) {
  return execFileSync(
    '/usr/bin/python3',
    ['-c', WHEEL_SCRIPT, dir, wheel.name, wheel.version, wheel.module, wheel.source],
    { encoding: 'utf8' },
  ).trim();
}

/**
 * Serves the wheels in `dir` as a PEP 503 "simple" index on 127.0.0.1 and a free port; `url` is the
 * index URL pip takes. Counts the wheel downloads, so a test can tell a cached image from a rebuild.
 */
export async function servePackageIndex(dir: string) {
  const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');
  const wheels = () => readdirSync(dir).filter((file) => file.endsWith('.whl'));
  let downloads = 0;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://index').pathname;
    const project = /^\/simple\/([^/]+)\/?$/.exec(path)?.[1];
    response.setHeader('content-type', 'text/html; charset=utf-8');
    if (path === '/simple/' || path === '/simple') {
      const names = [...new Set(wheels().map((file) => normalize(file.split('-')[0] ?? '')))];
      response.end(
        `<!DOCTYPE html><html><body>${names.map((n) => `<a href="/simple/${n}/">${n}</a>`).join('')}</body></html>`,
      );
    } else if (project) {
      const links = wheels()
        .filter((file) => normalize(file.split('-')[0] ?? '') === normalize(project))
        .map((file) => {
          const sha = createHash('sha256')
            .update(readFileSync(join(dir, file)))
            .digest('hex');
          return `<a href="/files/${file}#sha256=${sha}">${file}</a>`;
        });
      if (links.length === 0) response.writeHead(404).end('not found');
      else response.end(`<!DOCTYPE html><html><body>${links.join('')}</body></html>`);
    } else if (path.startsWith('/files/') && wheels().includes(path.slice(7))) {
      downloads++;
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(readFileSync(join(dir, path.slice(7))));
    } else {
      response.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    port,
    downloads: () => downloads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
