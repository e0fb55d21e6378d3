import type { EndpointRuntime } from '@kiln/endpoints';
import type { RunOutcome, ScheduledRunOf } from '@kiln/schedules';

/**
 * A schedule's `execute` for an endpoint: calls its live version through the runtime, as an HTTP call
 * would (same pool, timeout, price, request log), with the schedule's fixed keyword arguments. A 4xx
 * (the arguments no longer fit the function) is not retried; a crash, timeout or full queue is.
 */
export function createScheduledEndpointCall(runtime: Pick<EndpointRuntime, 'callScheduled'>) {
  return async (run: ScheduledRunOf<'endpoint'>): Promise<RunOutcome> => {
    const answer = await runtime.callScheduled(
      { workspaceId: run.workspaceId, endpointId: run.target.endpointId, scheduleId: run.scheduleId },
      JSON.stringify(run.target.args),
    );
    const priced = { requestId: answer.requestId, costNanos: answer.costNanos };
    if (answer.status === 200) return { ok: true, result: answer.body ?? 'null', ...priced };
    return {
      ok: false,
      error: `${answer.status}: ${answer.error ?? 'The call failed'}`,
      final: answer.status >= 400 && answer.status < 500 && answer.status !== 429,
      ...priced,
    };
  };
}
