/**
 * What output masking catches and what it does not, exactly as `@kiln/secrets/masking` implements it.
 * Shown where secrets are created and where a notebook picks them, so nobody relies on more.
 */
export function SecretMaskingNote() {
  return (
    <details className="small">
      <summary>What is masked, and what is not</summary>
      <p>
        A secret's value is replaced with <code>********</code> in cell outputs and errors (and so in versions
        and schedule runs), in endpoint and function results and errors, and in the kernel's log on the
        server: as typed, each of its lines, and in base64 (up to its last few characters), hex or URL
        encoding.
      </p>
      <p>Not masked:</p>
      <ul>
        <li>
          values, or lines of a value, shorter than 4 characters; base64 or URL encoding of a value under 8
          characters is not always caught;
        </li>
        <li>
          any other change to a value: different case, reversed, cut into parts printed separately, or encoded
          another way;
        </li>
        <li>terminal output, files a kernel writes, and text drawn into images or plots.</li>
      </ul>
      <p>
        Masking prevents showing a value by accident; it does not keep it from anyone who can run code in a
        notebook that uses the secret.
      </p>
    </details>
  );
}
