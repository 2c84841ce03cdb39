/**
 * Exit codes of children killed by a signal: minus the signal's number, as
 * Python reports them.
 *
 * @module
 */

/** Exit code of a process killed by a signal: minus the signal's number, as Python reports. */
export function signalExitCode(signal: Deno.Signal): number {
  return -(SIGNALS[signal] ?? 0) || -1;
}

const LINUX: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

const SIGNALS: Partial<Record<Deno.Signal, number>> = Deno.build.os === "linux"
  ? LINUX
  : { ...LINUX, SIGBUS: 10, SIGUSR1: 30, SIGSEGV: 11, SIGUSR2: 31 };
