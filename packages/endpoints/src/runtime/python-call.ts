/** The display mimetype a replica answers a call with (one display_data message per call). */
export const RESULT_MIME = 'application/vnd.kiln.endpoint-result+json';

/** What the replica's call wrapper reported. */
export type CallResult =
  | { status: 'ok'; body: string }
  | { status: 'bad_args'; error: string }
  | { status: 'error'; error: string }
  | { status: 'not_json'; error: string };

/**
 * Python run once in a fresh replica after the module: defines `__kiln_call`, which checks the keyword
 * arguments against the function's signature (a TypeError there is the caller's fault: 4xx), calls it,
 * and publishes the JSON text of the result, or the traceback without the wrapper's own frame.
 */
export function bootstrapCode(functionName: string): string {
  return `
def __kiln_make_call(fn):
    import inspect as _inspect, json as _json, traceback as _traceback
    from IPython.display import publish_display_data as _publish

    def _out(payload):
        _publish({${JSON.stringify(RESULT_MIME)}: payload})

    def _fail(error):
        return "".join(_traceback.format_exception(type(error), error, error.__traceback__.tb_next))

    def _prepare(payload):
        kwargs = _json.loads(payload)
        try:
            _inspect.signature(fn).bind(**kwargs)
        except TypeError as error:
            _out({"status": "bad_args", "error": f"TypeError: {error}"})
            return None
        return kwargs

    def _finish(result):
        try:
            body = _json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as error:
            _out({"status": "not_json", "error": f"The function returned {type(result).__name__!s}, which is not JSON-serialisable: {error}"})
            return
        _out({"status": "ok", "body": body})

    def call(payload):
        kwargs = _prepare(payload)
        if kwargs is None:
            return
        try:
            result = fn(**kwargs)
        except Exception as error:
            _out({"status": "error", "error": _fail(error)})
            return
        _finish(result)

    async def acall(payload):
        kwargs = _prepare(payload)
        if kwargs is None:
            return
        try:
            result = await fn(**kwargs)
        except Exception as error:
            _out({"status": "error", "error": _fail(error)})
            return
        _finish(result)

    return call, acall

if not callable(globals().get(${JSON.stringify(functionName)})):
    raise NameError(${JSON.stringify(`The module does not define a function named ${functionName}`)})
__kiln_call, __kiln_acall = __kiln_make_call(${functionName})
del __kiln_make_call
`;
}

/** The code of one call: the kwargs' JSON text as a Python string literal (JSON escapes are Python's too). */
export function callCode(kwargsJson: string, isAsync: boolean): string {
  const literal = JSON.stringify(kwargsJson);
  return isAsync ? `await __kiln_acall(${literal})` : `__kiln_call(${literal})`;
}

/** Removes ANSI colours from a kernel traceback so a caller's terminal or JSON shows plain text. */
export function plainTraceback(lines: readonly string[]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this removes.
  return lines.join('\n').replace(/\u001b\[[0-9;]*m/g, '');
}
