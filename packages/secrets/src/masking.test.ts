import { describe, expect, it } from 'vitest';
import { createMasker, MASK, maskJsonText } from './masking.ts';

describe('createMasker', () => {
  it('masks every verbatim occurrence, the longest value first', () => {
    const mask = createMasker(['hunter2-token', 'hunter2-token-extended']);
    expect(mask('a hunter2-token-extended b hunter2-token c')).toBe(`a ${MASK} b ${MASK} c`);
  });

  it('masks each line of a multi-line value on its own', () => {
    const mask = createMasker(['-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----']);
    expect(mask('line: AAAABBBBCCCC')).toBe(`line: ${MASK}`);
  });

  it('leaves text alone when no value is long enough to mask safely', () => {
    const mask = createMasker(['a', '12']);
    expect(mask('a 12 b')).toBe('a 12 b');
  });

  // The limits the secrets page states (apps/web/src/components/workspace/secret-masking.tsx).
  it('stops exactly where the secrets page says it does', () => {
    const mask = createMasker(['abc', 'wxyz', 'line-one-long\nxy', 'Long-Secret-Value']);
    // 4 characters and up are masked, as typed and in hex; 3 or fewer are not, nor are short lines.
    expect(mask('abc wxyz 7778797a xy line-one-long')).toBe(`abc ${MASK} ${MASK} xy ${MASK}`);
    // A short value's base64 or URL encoding is not always caught.
    expect(mask(Buffer.from('wxyz').toString('base64'))).toBe(Buffer.from('wxyz').toString('base64'));
    // Base64 of a longer value is masked up to its last group; other transforms are not recognised.
    const b64 = Buffer.from('Long-Secret-Value').toString('base64');
    expect(mask(b64)).toBe(`${MASK}${b64.slice(-4)}`);
    for (const changed of ['LONG-SECRET-VALUE', 'eulaV-terceS-gnoL', 'Long-Secret-Value'.slice(0, 8)]) {
      expect(mask(changed)).toBe(changed);
    }
  });
});

describe('createMasker, encoded forms', () => {
  const secret = 'sk_live_Zq9+/x=y&z 42!';
  const mask = createMasker([secret]);

  it('masks the value in base64 and URL-safe base64 at every byte alignment inside longer text', () => {
    for (const before of ['', 'a', 'ab', 'abc']) {
      for (const alphabet of ['base64', 'base64url'] as const) {
        const encoded = Buffer.from(`${before}${secret}tail`, 'utf8').toString(alphabet);
        const out = mask(`blob=${encoded}`);
        expect(out, `${alphabet} after ${before.length} bytes`).toContain(MASK);
        // What is left of the encoding is too short to decode the value from.
        const left = out.split(MASK).join('');
        expect(Buffer.from(left.slice(5), alphabet).toString('utf8')).not.toContain(secret.slice(0, 6));
      }
    }
  });

  it('masks the value hex-encoded in either case and URL-encoded as browsers and Python write it', () => {
    const hex = Buffer.from(secret, 'utf8').toString('hex');
    expect(mask(`h=${hex}`)).toBe(`h=${MASK}`);
    expect(mask(`H=${hex.toUpperCase()}`)).toBe(`H=${MASK}`);
    expect(mask(`q=${encodeURIComponent(secret)}`)).toBe(`q=${MASK}`);
    // urllib.parse.quote(secret, safe='') and quote_plus(secret)
    expect(mask('q=sk_live_Zq9%2B%2Fx%3Dy%26z%2042%21')).toBe(`q=${MASK}`);
    expect(mask('q=sk_live_Zq9%2B%2Fx%3Dy%26z+42%21')).toBe(`q=${MASK}`);
  });

  it('leaves base64 of other data alone (an image output must not be corrupted)', () => {
    const image = Buffer.alloc(300_000, 7).toString('base64');
    expect(mask(image)).toBe(image);
  });
});

describe('Masker.heldBack', () => {
  it('counts the end of a piece that could begin a value, and nothing otherwise', () => {
    const mask = createMasker(['abcdefgh']);
    expect(mask.heldBack('token: abcd')).toBe(4);
    expect(mask.heldBack('token: abcx')).toBe(0);
    expect(mask.heldBack('xxa')).toBe(1);
    // A complete value is masked, not held.
    expect(mask.heldBack('abcdefgh')).toBe(0);
  });

  it('holds back the start of an encoded form too', () => {
    const secret = 'correct horse battery';
    const mask = createMasker([secret]);
    const hex = Buffer.from(secret).toString('hex');
    expect(mask.heldBack(`x=${hex.slice(0, 10)}`)).toBe(10);
  });
});

describe('maskJsonText', () => {
  const secret = 'sk_live_Zq9"é\\tail';
  const mask = createMasker([secret, '31415926']);

  it('masks a value in strings and keys, however JSON escaped it, and keeps valid JSON of the same shape', () => {
    // Python's json.dumps escapes non-ASCII as \u00e9 and quotes as \": the verbatim value is not in the text.
    const text = `{"key": "${'sk_live_Zq9\\"\\u00e9\\\\tail'}", "list": [1, "x ${'sk_live_Zq9\\"\\u00e9\\\\tail'} y"], "${'sk_live_Zq9\\"\\u00e9\\\\tail'}": true}`;
    expect(JSON.parse(text).key).toBe(secret);
    const out = maskJsonText(text, mask);
    expect(JSON.parse(out)).toEqual({ key: MASK, list: [1, `x ${MASK} y`], [MASK]: true });
    expect(out).not.toContain('sk_live');
  });

  it('masks the value base64-encoded inside a string', () => {
    const out = maskJsonText(JSON.stringify({ blob: Buffer.from(`ab${secret}`).toString('base64') }), mask);
    expect(out).toContain(MASK);
    expect(Buffer.from(JSON.parse(out).blob.split(MASK).join(''), 'base64').toString()).not.toContain(
      'sk_live',
    );
  });

  it('turns a number whose digits are a value into the masked string', () => {
    expect(JSON.parse(maskJsonText('{"pin": 31415926, "n": 2.5, "big": 1231415926}', mask))).toEqual({
      pin: MASK,
      n: 2.5,
      big: `12${MASK}`,
    });
  });

  it('leaves a result without a value exactly as it was, big integers and spacing included', () => {
    const text = '{"a": 12345678901234567890, "b": [true, null, "\\u00e9"]}';
    expect(maskJsonText(text, mask)).toBe(text);
  });

  it('masks a value that spans tokens (a JSON secret returned parsed) by making the result one string', () => {
    const json = createMasker(['{"user": "svc", "pass": "hunter22"}']);
    const out = maskJsonText('{"user": "svc", "pass": "hunter22"}', json);
    expect(JSON.parse(out)).toBe(MASK);
  });
});
