import * as Y from 'yjs';
const ups: Uint8Array[] = [];
const docs = Array.from({ length: 4 }, () => new Y.Doc());
docs.forEach((d) => d.on('update', (u: Uint8Array) => ups.push(u)));
for (let i = 0; i < 1250; i++) docs.forEach((d) => d.getText('t').insert(i, 'a'));
let a = performance.now(); const merged = Y.mergeUpdates(ups); console.log('merge', ups.length, (performance.now() - a).toFixed(1), 'ms', merged.length);
a = performance.now(); const t = new Y.Doc(); Y.applyUpdate(t, merged); console.log('apply merged', (performance.now() - a).toFixed(1));
a = performance.now(); const t2 = new Y.Doc(); for (const u of ups) Y.applyUpdate(t2, u); console.log('apply each', (performance.now() - a).toFixed(1));
a = performance.now(); for (const u of ups) Y.decodeUpdate(u); console.log('decode each', (performance.now() - a).toFixed(1));
