'use client';
import { useId, useState } from 'react';

/** The kernel waits in `input()`: any editor may answer; the answer goes to `notebook.answerInput`. */
export function StdinPrompt(props: {
  prompt: string;
  password: boolean;
  disabled: boolean;
  onSubmit(value: string): Promise<boolean>;
}) {
  const [value, setValue] = useState('');
  const [sending, setSending] = useState(false);
  const id = useId();
  return (
    <form
      className="stdin"
      onSubmit={async (event) => {
        event.preventDefault();
        setSending(true);
        if (await props.onSubmit(value)) setValue('');
        setSending(false);
      }}
    >
      <label htmlFor={id} className="stdin-prompt">
        {props.prompt || 'Input:'}
      </label>
      <input
        id={id}
        className="stdin-input"
        type={props.password ? 'password' : 'text'}
        autoComplete="off"
        value={value}
        disabled={props.disabled || sending}
        onChange={(event) => setValue(event.target.value)}
        // biome-ignore lint/a11y/noAutofocus: the kernel is blocked until someone answers.
        autoFocus={!props.disabled}
      />
    </form>
  );
}
