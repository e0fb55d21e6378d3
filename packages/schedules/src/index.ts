export {
  createScheduleRunner,
  type RunOutcome,
  type ScheduledRun,
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
export { isTimeZone, nextTick, type Timing, validateTiming } from './timing.ts';
