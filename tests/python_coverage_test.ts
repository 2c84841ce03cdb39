// Python API coverage, stated: docs/python.md has a row for every public
// name of Python's multiprocessing (kept below, by section), each with its
// equivalent here or the reason there is none; the top-level equivalents
// it names are exported.
import { assert, assertEquals } from "@std/assert";
import * as mod from "../mod.ts";

/** Python 3.13's names, by the section of docs/python.md that answers them. */
const PYTHON: Record<string, string[]> = {
  "multiprocessing": [
    // multiprocessing.__all__ (the bound methods and classes of its default context)
    "Process",
    "current_process",
    "parent_process",
    "active_children",
    "cpu_count",
    "Pipe",
    "Queue",
    "JoinableQueue",
    "SimpleQueue",
    "Pool",
    "Manager",
    "Lock",
    "RLock",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Barrier",
    "Value",
    "Array",
    "RawValue",
    "RawArray",
    "ProcessError",
    "AuthenticationError",
    "TimeoutError",
    "BufferTooShort",
    "get_context",
    "get_start_method",
    "set_start_method",
    "get_all_start_methods",
    "get_logger",
    "log_to_stderr",
    "freeze_support",
    "set_executable",
    "set_forkserver_preload",
    "allow_connection_pickling",
    "reducer",
  ],
  "Process": [
    "run",
    "start",
    "join",
    "is_alive",
    "terminate",
    "kill",
    "close",
    "name",
    "daemon",
    "pid",
    "ident",
    "exitcode",
    "authkey",
    "sentinel",
  ],
  "multiprocessing.connection": [
    "Client",
    "Listener",
    "Pipe",
    "wait",
    "Connection",
    "deliver_challenge",
    "answer_challenge",
    "Listener.accept",
    "Listener.close",
    "Listener.address",
    "Listener.last_accepted",
    "send",
    "recv",
    "send_bytes",
    "recv_bytes",
    "recv_bytes_into",
    "poll",
    "close",
    "fileno",
    "closed",
    "readable",
    "writable",
  ],
  "multiprocessing.queues": [
    "Queue",
    "JoinableQueue",
    "SimpleQueue",
    "put",
    "put_nowait",
    "get",
    "get_nowait",
    "qsize",
    "empty",
    "full",
    "close",
    "join_thread",
    "cancel_join_thread",
    "task_done",
    "join",
    "queue.Empty",
    "queue.Full",
  ],
  "multiprocessing.pool": [
    "Pool",
    "ThreadPool",
    "apply",
    "apply_async",
    "map",
    "map_async",
    "imap",
    "imap_unordered",
    "starmap",
    "starmap_async",
    "close",
    "terminate",
    "join",
    "AsyncResult",
    "AsyncResult.get",
    "AsyncResult.wait",
    "AsyncResult.ready",
    "AsyncResult.successful",
  ],
  "multiprocessing.synchronize": [
    "Lock",
    "RLock",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Barrier",
    "acquire",
    "release",
    "get_value",
    "wait",
    "wait_for",
    "notify",
    "notify_all",
    "is_set",
    "set",
    "clear",
    "reset",
    "abort",
    "parties",
    "n_waiting",
    "broken",
    "threading.BrokenBarrierError",
  ],
  "multiprocessing.sharedctypes": [
    "RawValue",
    "RawArray",
    "Value",
    "Array",
    "copy",
    "synchronized",
    "get_lock",
    "get_obj",
  ],
  "multiprocessing.shared_memory": ["SharedMemory", "ShareableList"],
  "multiprocessing.managers": [
    "BaseManager",
    "SyncManager",
    "BaseProxy",
    "Token",
    "SharedMemoryManager",
    "Namespace",
    "register",
    "start",
    "connect",
    "shutdown",
    "get_server",
    "serve_forever",
    "address",
    "join",
    "AutoProxy",
    "MakeProxyType",
    "_callmethod",
    "_getvalue",
    "SyncManager.Queue",
    "SyncManager.JoinableQueue",
    "SyncManager.Event",
    "SyncManager.Lock",
    "SyncManager.RLock",
    "SyncManager.Semaphore",
    "SyncManager.BoundedSemaphore",
    "SyncManager.Condition",
    "SyncManager.Barrier",
    "SyncManager.Pool",
    "SyncManager.list",
    "SyncManager.dict",
    "SyncManager.Value",
    "SyncManager.Array",
    "SyncManager.Namespace",
  ],
};

interface Row {
  python: string;
  here: string;
}

/** The table rows of docs/python.md, by section (`## \`name\``). */
async function rowsBySection(): Promise<Map<string, Row[]>> {
  const text = await Deno.readTextFile(new URL("../docs/python.md", import.meta.url));
  const out = new Map<string, Row[]>();
  let section = "";
  for (const line of text.split("\n")) {
    const heading = /^## `([^`]+)`/.exec(line);
    if (heading) out.set(section = heading[1], []);
    const cells = line.startsWith("| `") ? line.split("|").map((c) => c.trim()) : undefined;
    if (cells && section) {
      out.get(section)!.push({ python: cells[1].replaceAll("`", ""), here: cells[2] });
    }
  }
  return out;
}

Deno.test("docs/python.md answers every public name of Python's multiprocessing", async () => {
  const sections = await rowsBySection();
  const missing: string[] = [];
  for (const [section, names] of Object.entries(PYTHON)) {
    const rows = sections.get(section) ?? [];
    for (const name of names) {
      const row = rows.find((r) => r.python === name);
      if (!row || row.here.length === 0) missing.push(`${section}: ${name}`);
    }
  }
  assertEquals(missing, [], "names with no row, or a row with no answer");
});

Deno.test("docs/python.md: the top-level equivalents it names are exported", async () => {
  const rows = (await rowsBySection()).get("multiprocessing") ?? [];
  assert(rows.length > 30);
  const exported = new Set(Object.keys(mod));
  const wrong = rows
    .map((r) => /^`([A-Za-z_$][\w$]*)`/.exec(r.here)?.[1])
    .filter((name): name is string =>
      name !== undefined && !exported.has(name) && !(name in globalThis)
    );
  assertEquals(wrong, [], "equivalents that mod.ts does not export (nor JavaScript has)");
});
