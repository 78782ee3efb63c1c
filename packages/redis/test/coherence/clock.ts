/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC), one clock for every process:
 * the multi-process tests compare one process's timestamps with another's. Not
 * `performance.timeOrigin + performance.now()`: each process reads the wall clock once, when it
 * starts, so a clock step between two starts (a fresh VM syncing its clock) shifts one process's
 * times against the others' (a read could then seem to return a value before its write began).
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;
