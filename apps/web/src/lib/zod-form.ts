import { zodResolver } from '@hookform/resolvers/zod';
import { type FieldValues, type UseFormProps, useForm } from 'react-hook-form';
import type { z } from 'zod';

/**
 * A react-hook-form form validated by one of the API's input schemas (`@kiln/api/inputs`), so the
 * browser rejects what the server would, with the server's messages, and submits the parsed
 * (trimmed, lower-cased) values.
 */
export function useZodForm<Schema extends z.ZodType<FieldValues, FieldValues>>(
  schema: Schema,
  props?: Omit<UseFormProps<z.input<Schema>, unknown, z.output<Schema>>, 'resolver'>,
) {
  return useForm<z.input<Schema>, unknown, z.output<Schema>>({ ...props, resolver: zodResolver(schema) });
}
