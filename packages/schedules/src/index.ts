export {
  byTarget,
  createScheduleRunner,
  type RunOutcome,
  type ScheduledRun,
  type ScheduledRunOf,
  type ScheduleRunner,
  type ScheduleRunnerOptions,
} from './runner.ts';
export {
  createSchedules,
  DEFAULT_SCHEDULE_LIMITS,
  type ScheduleActor,
  type ScheduleInput,
  type ScheduleRunView,
  type Schedules,
  type SchedulesOptions,
  type ScheduleView,
  timingOf,
} from './schedules.ts';
export { MAX_ARGS_BYTES, type ScheduleTarget, validateArgs } from './target.ts';
export { isTimeZone, nextTick, type Timing, validateTiming } from './timing.ts';
