// Offline stand-in for the subset of `jsr:@std/testing/mock` that this
// repository's tests use. Used by `.ci/run` (via `.ci/std/import_map.json`)
// when jsr.io cannot be reached. Names, signatures, error classes and
// messages follow @std/testing 1.x.

import { assertEquals, AssertionError, assertIsError, assertRejects } from "./assert.ts";

/** An error related to spying on a function or instance method. */
export class MockError extends Error {
  /** Constructs a MockError with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "MockError";
  }
}

/** Call information recorded by a spy. */
export interface SpyCall<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> {
  /** Arguments passed to the function. */
  args: Args;
  /** The value returned, present only when the call returned. */
  returned?: Return;
  /** The value thrown, present only when the call threw. */
  error?: Error;
  /** The `this` of the call, when truthy. */
  self?: Self;
}

/** A function or instance method wrapper that records all calls made to it. */
export interface Spy<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> {
  (this: Self, ...args: Args): Return;
  /** The function being spied on. */
  original: (this: Self, ...args: Args) => Return;
  /** The calls made so far, oldest first. */
  calls: SpyCall<Self, Args, Return>[];
  /** Whether the original instance method has been restored. */
  restored: boolean;
  /** Restores the original instance method (throws for plain functions). */
  restore(): void;
}

/** An instance method wrapper that records all calls made to it. */
export interface MethodSpy<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> extends Spy<Self, Args, Return>, Disposable {}

/** A constructor wrapper that records all calls made to it. */
export interface ConstructorSpy<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
> {
  /** Constructs an instance. */
  new (...args: Args): Self;
  /** The constructor being spied on. */
  original: new (...args: Args) => Self;
  /** The calls made so far, oldest first. */
  calls: SpyCall<Self, Args, Self>[];
  /** Always `false`: constructors cannot be restored. */
  restored: boolean;
  /** Throws: constructors cannot be restored. */
  restore(): void;
}

/** An instance method replacement that records all calls made to it. */
export interface Stub<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> extends MethodSpy<Self, Args, Return> {
  /** The function used instead of the original. */
  fake: (this: Self, ...args: Args) => Return;
}

/** Either kind of spy. */
export type SpyLike<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> = Spy<Self, Args, Return> | ConstructorSpy<Self, Args>;

/** The parameter types of method `Prop` of `Self`. */
export type GetParametersFromProp<Self, Prop extends keyof Self> = Self[Prop] extends
  (...args: infer Args) => unknown ? Args : unknown[];

/** The return type of method `Prop` of `Self`. */
export type GetReturnFromProp<Self, Prop extends keyof Self> =
  // deno-lint-ignore no-explicit-any
  Self[Prop] extends (...args: any[]) => infer Return ? Return : unknown;

/** Expected details of a spy call, for {@linkcode assertSpyCall}. */
export interface ExpectedSpyCall<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  // deno-lint-ignore no-explicit-any
  Return = any,
> {
  /** Expected arguments. */
  args?: [...Args, ...unknown[]];
  /** Expected `this`. */
  self?: Self;
  /** Expected return value (expect `error` for a thrown error instead). */
  returned?: Return;
  /** Expected thrown error. */
  error?: {
    /** Expected error class. */
    // deno-lint-ignore no-explicit-any
    Class?: new (...args: any[]) => Error;
    /** Text the error message must include. */
    msgIncludes?: string;
  };
}

// deno-lint-ignore no-explicit-any
type AnySpy = Spy<any, any[], any>;
type Fn<Self, Args extends unknown[], Return> = (
  this: Self,
  ...args: Args
) => Return;

const sessions: Set<AnySpy>[] = [];
const currentSession = (): Set<AnySpy> => {
  if (sessions.length === 0) sessions.push(new Set());
  return sessions[sessions.length - 1];
};

function isSpy(func: unknown): func is AnySpy {
  const s = func as AnySpy;
  return typeof s === "function" && typeof s.original === "function" &&
    typeof s.restored === "boolean" && typeof s.restore === "function" &&
    Array.isArray(s.calls);
}

/** Wraps `impl` so that every call is recorded in `calls`. */
function recording<Self, Args extends unknown[], Return>(
  impl: Fn<Self, Args, Return>,
  calls: SpyCall<Self, Args, Return>[],
): Fn<Self, Args, Return> {
  return function (this: Self, ...args: Args): Return {
    const call: SpyCall<Self, Args, Return> = { args };
    if (this) call.self = this;
    try {
      const value = impl.apply(this, args);
      call.returned = value;
      return value;
    } catch (error) {
      call.error = error as Error;
      throw error;
    } finally {
      calls.push(call);
    }
  };
}

function functionSpy<Self, Args extends unknown[], Return>(
  func?: Fn<Self, Args, Return>,
): Spy<Self, Args, Return> {
  const original = func ?? ((() => {}) as unknown as Fn<Self, Args, Return>);
  const calls: SpyCall<Self, Args, Return>[] = [];
  return Object.defineProperties(recording(original, calls), {
    original: { enumerable: true, value: original },
    calls: { enumerable: true, value: calls },
    restored: { enumerable: true, get: () => false },
    restore: {
      enumerable: true,
      value: () => {
        throw new MockError("Cannot restore: function cannot be restored");
      },
    },
  }) as Spy<Self, Args, Return>;
}

function constructorSpy<Self, Args extends unknown[]>(
  original: new (...args: Args) => Self,
): ConstructorSpy<Self, Args> {
  const calls: SpyCall<Self, Args, Self>[] = [];
  // deno-lint-ignore no-explicit-any
  const Base = original as unknown as new (...args: any[]) => object;
  const Wrapped = class extends Base {
    // deno-lint-ignore constructor-super -- super() is called inside `try`
    constructor(...args: Args) {
      const call: SpyCall<Self, Args, Self> = { args };
      try {
        super(...args);
      } catch (error) {
        call.error = error as Error;
        calls.push(call);
        throw error;
      }
      call.returned = this as unknown as Self;
      calls.push(call);
    }
  };
  return Object.defineProperties(Wrapped, {
    name: { value: original.name },
    original: { value: original },
    calls: { value: calls },
    restored: { value: false },
    restore: {
      value: () => {
        throw new MockError("Cannot restore: constructor cannot be restored");
      },
    },
  }) as unknown as ConstructorSpy<Self, Args>;
}

/** Installs a recording wrapper around `impl` as `self[property]`. */
function wrapMethod<Self, Args extends unknown[], Return>(
  verb: "spy" | "stub",
  self: Self,
  property: keyof Self,
  fake?: Fn<Self, Args, Return>,
): Stub<Self, Args, Return> {
  const current = self[property];
  if (
    verb === "spy"
      ? typeof current !== "function"
      : current !== undefined && typeof current !== "function"
  ) {
    throw new MockError(`Cannot ${verb}: property is not an instance method`);
  }
  if (isSpy(current)) {
    throw new MockError(`Cannot ${verb}: already spying on instance method`);
  }
  const descriptor = Object.getOwnPropertyDescriptor(self, property);
  if (descriptor && !descriptor.configurable) {
    throw new MockError(`Cannot ${verb}: non-configurable instance method`);
  }
  const original = current as unknown as Fn<Self, Args, Return>;
  const calls: SpyCall<Self, Args, Return>[] = [];
  let restored = false;
  const wrapper = recording(fake ?? original, calls) as Stub<
    Self,
    Args,
    Return
  >;
  const restore = () => {
    if (restored) {
      throw new MockError("Cannot restore: instance method already restored");
    }
    if (descriptor) Object.defineProperty(self, property, descriptor);
    else delete self[property];
    restored = true;
    currentSession().delete(wrapper);
  };
  Object.defineProperties(wrapper, {
    original: { enumerable: true, value: original },
    ...(fake ? { fake: { enumerable: true, value: fake } } : {}),
    calls: { enumerable: true, value: calls },
    restored: { enumerable: true, get: () => restored },
    restore: { enumerable: true, value: restore },
    [Symbol.dispose]: { value: () => wrapper.restore() },
  });
  Object.defineProperty(self, property, {
    configurable: true,
    enumerable: descriptor?.enumerable ?? false,
    writable: descriptor?.writable ?? false,
    value: wrapper,
  });
  currentSession().add(wrapper);
  return wrapper;
}

/**
 * Creates a spy that records calls and returns `undefined`.
 *
 * @returns The spy function.
 */
export function spy<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
  Return = undefined,
>(): Spy<Self, Args, Return>;
/**
 * Wraps `func` in a spy that records calls and passes them through.
 *
 * @param func The function to wrap.
 * @returns The spy function.
 */
export function spy<Self, Args extends unknown[], Return>(
  func: (this: Self, ...args: Args) => Return,
): Spy<Self, Args, Return>;
/**
 * Wraps a class in a spy that records constructor calls.
 *
 * @param constructor The class to wrap.
 * @returns The spying constructor.
 */
export function spy<Self, Args extends unknown[]>(
  constructor: new (...args: Args) => Self,
): ConstructorSpy<Self, Args>;
/**
 * Replaces method `property` of `self` with a spy that passes calls through;
 * undo with `restore()` or `using`.
 *
 * @param self The object owning the method.
 * @param property The method name.
 * @returns The method spy.
 */
export function spy<Self, Prop extends keyof Self>(
  self: Self,
  property: Prop,
): MethodSpy<
  Self,
  GetParametersFromProp<Self, Prop>,
  GetReturnFromProp<Self, Prop>
>;
export function spy<Self, Args extends unknown[], Return>(
  target?: Fn<Self, Args, Return> | (new (...args: Args) => Self) | Self,
  property?: keyof Self,
): SpyLike<Self, Args, Return> {
  if (!target) return functionSpy<Self, Args, Return>();
  if (property !== undefined) {
    return wrapMethod<Self, Args, Return>("spy", target as Self, property);
  }
  if (
    typeof target === "function" &&
    Function.prototype.toString.call(target).startsWith("class")
  ) {
    return constructorSpy(target as new (...args: Args) => Self);
  }
  return functionSpy(target as Fn<Self, Args, Return>);
}

/**
 * Replaces method `property` of `self` with a stub that records calls and
 * runs `func` (or returns `undefined`); undo with `restore()` or `using`.
 *
 * @param self The object owning the method.
 * @param property The method name.
 * @param func The fake implementation.
 * @returns The stub.
 */
export function stub<Self, Prop extends keyof Self>(
  self: Self,
  property: Prop,
  func?: (
    this: Self,
    ...args: GetParametersFromProp<Self, Prop>
  ) => GetReturnFromProp<Self, Prop>,
): Stub<Self, GetParametersFromProp<Self, Prop>, GetReturnFromProp<Self, Prop>>;
export function stub<Self, Args extends unknown[], Return>(
  self: Self,
  property: keyof Self,
  func?: Fn<Self, Args, Return>,
): Stub<Self, Args, Return> {
  const fake = func ?? ((() => {}) as unknown as Fn<Self, Args, Return>);
  return wrapMethod("stub", self, property, fake);
}

/**
 * Starts a mock session: spies and stubs created until the matching
 * {@linkcode restore} are restored by it.
 *
 * @returns The session id.
 */
export function mockSession(): number;
/**
 * Wraps `func` so that the spies and stubs it creates are restored when it
 * returns or throws.
 *
 * @param func The function to wrap.
 * @returns The wrapped function.
 */
export function mockSession<Self, Args extends unknown[], Return>(
  func: (this: Self, ...args: Args) => Return,
): (this: Self, ...args: Args) => Return;
export function mockSession<Self, Args extends unknown[], Return>(
  func?: Fn<Self, Args, Return>,
): number | Fn<Self, Args, Return> {
  if (!func) return sessions.push(new Set()) - 1;
  return function (this: Self, ...args: Args): Return {
    const id = sessions.push(new Set()) - 1;
    try {
      return func.apply(this, args);
    } finally {
      restore(id);
    }
  };
}

/**
 * Wraps async `func` so that the spies and stubs it creates are restored when
 * its promise settles.
 *
 * @param func The async function to wrap.
 * @returns The wrapped function.
 */
export function mockSessionAsync<Self, Args extends unknown[], Return>(
  func: (this: Self, ...args: Args) => Promise<Return>,
): (this: Self, ...args: Args) => Promise<Return> {
  return async function (this: Self, ...args: Args): Promise<Return> {
    const id = sessions.push(new Set()) - 1;
    try {
      return await func.apply(this, args);
    } finally {
      restore(id);
    }
  };
}

/**
 * Restores every unrestored spy and stub of session `id` (default: the
 * current one) and of all sessions started after it.
 *
 * @param id The session id returned by {@linkcode mockSession}.
 */
export function restore(id?: number): void {
  id ??= (sessions.length || 1) - 1;
  while (id < sessions.length) {
    for (const s of sessions.pop() ?? []) s.restore();
  }
}

function getSpyCall(spy: SpyLike, callIndex: number): SpyCall {
  if (spy.calls.length < callIndex + 1) {
    throw new AssertionError("Spy not called as much as expected");
  }
  return spy.calls[callIndex];
}

/** Re-throws an assertEquals failure under `heading`, keeping its diff. */
function rethrowDiff(heading: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    assertIsError(e);
    throw new AssertionError(
      heading + e.message.split("\n").slice(1).join("\n"),
    );
  }
}

/**
 * Asserts that `spy` was called exactly `expectedCalls` times.
 *
 * @param spy The spy to check.
 * @param expectedCalls The expected number of calls.
 */
export function assertSpyCalls<Self, Args extends unknown[], Return>(
  spy: SpyLike<Self, Args, Return>,
  expectedCalls: number,
): void {
  rethrowDiff(
    spy.calls.length < expectedCalls
      ? "Spy not called as much as expected:\n"
      : "Spy called more than expected:\n",
    () => assertEquals(spy.calls.length, expectedCalls),
  );
}

/**
 * Asserts details (args, self, returned value or thrown error) of call
 * number `callIndex` of `spy`.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param expected The expected call details.
 */
export function assertSpyCall<Self, Args extends unknown[], Return>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  expected?: ExpectedSpyCall<Self, Args, Return>,
): void {
  const call = getSpyCall(spy, callIndex);
  if (!expected) return;
  if (expected.args) {
    rethrowDiff(
      "Spy not called with expected args:\n",
      () => assertEquals(call.args, expected.args),
    );
  }
  if ("self" in expected) {
    rethrowDiff(
      expected.self
        ? "Spy not called as method on expected self:\n"
        : "Spy not expected to be called as method on object:\n",
      () => assertEquals(call.self, expected.self),
    );
  }
  if ("returned" in expected) {
    if ("error" in expected) {
      throw new TypeError(
        "Do not expect error and return, only one should be expected",
      );
    }
    if (call.error) {
      throw new AssertionError(
        "Spy call did not return expected value, an error was thrown.",
      );
    }
    rethrowDiff(
      "Spy call did not return expected value:\n",
      () => assertEquals(call.returned, expected.returned),
    );
  }
  if ("error" in expected) {
    if ("returned" in call) {
      throw new AssertionError(
        "Spy call did not throw an error, a value was returned.",
      );
    }
    assertIsError(
      call.error,
      expected.error?.Class,
      expected.error?.msgIncludes,
    );
  }
}

/**
 * Like {@linkcode assertSpyCall}, for a spy returning a promise: `returned`
 * is compared with the resolved value and `error` with the rejection.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param expected The expected call details.
 */
export async function assertSpyCallAsync<Self, Args extends unknown[], Return>(
  spy: SpyLike<Self, Args, Promise<Return>>,
  callIndex: number,
  expected?: ExpectedSpyCall<Self, Args, Promise<Return> | Return>,
): Promise<void> {
  const syncPart = expected && { ...expected };
  delete syncPart?.returned;
  delete syncPart?.error;
  assertSpyCall(spy, callIndex, syncPart);
  const call = getSpyCall(spy, callIndex);
  if (call.error) {
    throw new AssertionError(
      "Spy call did not return a promise, an error was thrown.",
    );
  }
  if (call.returned !== Promise.resolve(call.returned)) {
    throw new AssertionError(
      "Spy call did not return a promise, a value was returned.",
    );
  }
  if (!expected) return;
  if ("returned" in expected) {
    if ("error" in expected) {
      throw new TypeError(
        "Do not expect error and return, only one should be expected",
      );
    }
    let want: unknown;
    try {
      want = await expected.returned;
    } catch {
      throw new TypeError(
        "Do not expect rejected promise, expect error instead",
      );
    }
    let got: unknown;
    try {
      got = await call.returned;
    } catch {
      throw new AssertionError("Spy call returned promise was rejected");
    }
    rethrowDiff(
      "Spy call did not resolve to expected value:\n",
      () => assertEquals(got, want),
    );
  }
  if ("error" in expected) {
    await assertRejects(
      () => Promise.resolve(call.returned),
      expected.error?.Class ?? Error,
      expected.error?.msgIncludes ?? "",
    );
  }
}

/**
 * Asserts that argument `argIndex` of call `callIndex` equals `expected`.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param argIndex The zero-based index of the argument.
 * @param expected The expected argument.
 * @returns The actual argument.
 */
export function assertSpyCallArg<
  Self,
  Args extends unknown[],
  Return,
  ExpectedArg,
>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  argIndex: number,
  expected: ExpectedArg,
): ExpectedArg {
  const arg = getSpyCall(spy, callIndex).args[argIndex];
  assertEquals(arg, expected);
  return arg as ExpectedArg;
}

/**
 * Asserts that the arguments of call `callIndex` equal `expected`.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param expected The expected arguments.
 * @returns The actual arguments.
 */
export function assertSpyCallArgs<
  Self,
  Args extends unknown[],
  Return,
  ExpectedArgs extends unknown[],
>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  expected: ExpectedArgs,
): ExpectedArgs;
/**
 * Asserts that the arguments of call `callIndex`, from `argsStart` on, equal
 * `expected`.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param argsStart The index of the first argument compared.
 * @param expected The expected arguments.
 * @returns The actual arguments compared.
 */
export function assertSpyCallArgs<
  Self,
  Args extends unknown[],
  Return,
  ExpectedArgs extends unknown[],
>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  argsStart: number,
  expected: ExpectedArgs,
): ExpectedArgs;
/**
 * Asserts that arguments `argsStart` (inclusive) to `argsEnd` (exclusive) of
 * call `callIndex` equal `expected`.
 *
 * @param spy The spy to check.
 * @param callIndex The zero-based index of the call.
 * @param argsStart The index of the first argument compared.
 * @param argsEnd The index after the last argument compared.
 * @param expected The expected arguments.
 * @returns The actual arguments compared.
 */
export function assertSpyCallArgs<
  Self,
  Args extends unknown[],
  Return,
  ExpectedArgs extends unknown[],
>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  argsStart: number,
  argsEnd: number,
  expected: ExpectedArgs,
): ExpectedArgs;
export function assertSpyCallArgs<
  ExpectedArgs extends unknown[],
  Args extends unknown[],
  Return,
  Self,
>(
  spy: SpyLike<Self, Args, Return>,
  callIndex: number,
  argsStart?: number | ExpectedArgs,
  argsEnd?: number | ExpectedArgs,
  expected?: ExpectedArgs,
): ExpectedArgs {
  const call = getSpyCall(spy, callIndex);
  if (!expected) {
    expected = argsEnd as ExpectedArgs;
    argsEnd = undefined;
  }
  if (!expected) {
    expected = argsStart as ExpectedArgs;
    argsStart = undefined;
  }
  const args = typeof argsEnd === "number"
    ? call.args.slice(argsStart as number, argsEnd)
    : typeof argsStart === "number"
    ? call.args.slice(argsStart)
    : call.args;
  assertEquals(args, expected);
  return args as ExpectedArgs;
}

/**
 * Creates a function returning the instance it was called on.
 *
 * @returns The function.
 */
export function returnsThis<
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
>(): (this: Self, ...args: Args) => Self {
  return function (this: Self): Self {
    return this;
  };
}

/**
 * Creates a function returning its argument number `idx`.
 *
 * @param idx The zero-based index of the argument to return.
 * @returns The function.
 */
// deno-lint-ignore no-explicit-any
export function returnsArg<Arg, Self = any>(
  idx: number,
): (this: Self, ...args: Arg[]) => Arg | undefined {
  return (...args: Arg[]) => args[idx];
}

/**
 * Creates a function returning `args.slice(start, end)`.
 *
 * @param start The index of the first argument returned.
 * @param end The index after the last argument returned.
 * @returns The function.
 */
// deno-lint-ignore no-explicit-any
export function returnsArgs<Args extends unknown[], Self = any>(
  start = 0,
  end?: number,
): (this: Self, ...args: Args) => Args {
  return (...args: Args) => args.slice(start, end) as Args;
}

/**
 * Creates a function returning the next value of `values` on each call;
 * values that are `Error`s are thrown instead. Calling it after the values
 * run out throws a {@linkcode MockError}.
 *
 * @param values The values to return, in order.
 * @returns The function.
 */
export function returnsNext<
  Return,
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
>(values: Iterable<Return | Error>): (this: Self, ...args: Args) => Return {
  const it = values[Symbol.iterator]();
  let calls = 0;
  return () => {
    const next = it.next();
    if (next.done) {
      throw new MockError(
        `Not expected to be called more than ${calls} time(s)`,
      );
    }
    calls++;
    if (next.value instanceof Error) throw next.value;
    return next.value;
  };
}

/**
 * Creates an async function resolving to the next (awaited) value of
 * `iterable` on each call; values that are `Error`s reject instead. Calling it
 * after the values run out rejects with a {@linkcode MockError}.
 *
 * @param iterable The values to resolve to, in order.
 * @returns The function.
 */
export function resolvesNext<
  Return,
  // deno-lint-ignore no-explicit-any
  Self = any,
  // deno-lint-ignore no-explicit-any
  Args extends unknown[] = any[],
>(
  iterable:
    | Iterable<Return | Error | Promise<Return | Error>>
    | AsyncIterable<Return | Error | Promise<Return | Error>>,
): (this: Self, ...args: Args) => Promise<Return> {
  const gen = (async function* () {
    yield* iterable;
  })();
  let calls = 0;
  return async () => {
    const next = await gen.next();
    if (next.done) {
      throw new MockError(
        `Not expected to be called more than ${calls} time(s)`,
      );
    }
    calls++;
    if (next.value instanceof Error) throw next.value;
    return next.value;
  };
}
