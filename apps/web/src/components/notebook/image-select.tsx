'use client';

/** A workspace image as pickers list it. */
export interface ImageChoice {
  id: string;
  name: string;
  state: 'building' | 'ready' | 'failed';
  usable: boolean;
}

/**
 * The image field of the machine picker and the deploy dialog: Kiln's base image (`value` "base") or a
 * workspace image; one without a usable build cannot be chosen and says why.
 */
export function ImageSelect(props: { value: string; images: ImageChoice[]; onChange(value: string): void }) {
  return (
    <label className="field">
      <span>Image</span>
      <select
        className="select"
        value={props.value}
        aria-label="Image"
        onChange={(event) => props.onChange(event.target.value)}
      >
        <option value="base">Kiln base image</option>
        {props.images.map((choice) => (
          <option key={choice.id} value={choice.id} disabled={!choice.usable}>
            {choice.name}
            {choice.state === 'building' ? ' (building)' : choice.state === 'failed' ? ' (build failed)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
