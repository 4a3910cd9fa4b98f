/**
 * Guest-side JavaScript evaluated in every fresh context before any workload code runs.
 *
 * It removes WebAssembly/SharedArrayBuffer/Atomics, adds TextEncoder/TextDecoder, and defines
 * `__nexInstall(call, name, node)`, which the host calls once per isolate with the workload's only
 * host-call Reference. The Reference stays in this closure: user code gets plain functions (`ctx`,
 * `console`, `setTimeout`) that call it with copied arguments, turning `{ok:false}` envelopes into
 * guest-created Errors. `__nexInstall` returns `[dispatch, setConfig, bindingState, whenBound, dispatchAll,
 * outcomeOf]` to the host and
 * defines `__nexBind`, which the generated entry module calls with the workload's namespace once its
 * top-level await (if any) finished; `dispatch` waits for that.
 *
 * Protocol with the host (see Sandbox.ts):
 * - dispatch(invocation, kind, subject, reply, data, headerPairs) with kind 0 = message, 1 = config
 *   change; resolves to [0] (no body), [1, text], [2, bytes] or [3, errorMessage].
 * - dispatchAll([[invocation, kind, subject, reply, data, headerPairs], ...]) resolves to one outcome
 *   per call, [4] for a call still running; outcomeOf(invocation) then resolves to that call's outcome.
 * - host call: call(operation, invocation, ...arguments) → {ok:true, value} | {ok:false, code, message}.
 *
 * The source avoids backticks and dollar-brace so it can live in this template literal.
 */
export const preludeSource = `(() => {
  "use strict";
  const global = globalThis;
  const { defineProperty, freeze, keys, isFrozen } = Object;
  const hasOwn = Object.hasOwn;
  const parseJson = JSON.parse;
  const stringifyJson = JSON.stringify;
  const fromCharCode = String.fromCharCode;
  const isView = ArrayBuffer.isView;
  const isArray = Array.isArray;

  delete global.WebAssembly;
  delete global.SharedArrayBuffer;
  delete global.Atomics;

  const encodeUtf8 = (text) => {
    const out = new Uint8Array(text.length * 3);
    let position = 0;
    for (let index = 0; index < text.length; index++) {
      let code = text.charCodeAt(index);
      if (code < 0x80) {
        out[position++] = code;
        continue;
      }
      if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
        const next = text.charCodeAt(index + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          index++;
        } else {
          code = 0xfffd;
        }
      } else if (code >= 0xd800 && code <= 0xdfff) {
        code = 0xfffd;
      }
      if (code < 0x800) {
        out[position++] = 0xc0 | (code >> 6);
        out[position++] = 0x80 | (code & 0x3f);
      } else if (code < 0x10000) {
        out[position++] = 0xe0 | (code >> 12);
        out[position++] = 0x80 | ((code >> 6) & 0x3f);
        out[position++] = 0x80 | (code & 0x3f);
      } else {
        out[position++] = 0xf0 | (code >> 18);
        out[position++] = 0x80 | ((code >> 12) & 0x3f);
        out[position++] = 0x80 | ((code >> 6) & 0x3f);
        out[position++] = 0x80 | (code & 0x3f);
      }
    }
    return out.slice(0, position);
  };

  // Returns undefined when fatal is set and the input is not valid UTF-8.
  const decodeUtf8 = (bytes, fatal) => {
    let result = "";
    let units = [];
    let index = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    while (index < bytes.length) {
      const lead = bytes[index];
      let code = lead;
      let needed = 0;
      let minimum = 0;
      if (lead < 0x80) {
        index++;
      } else {
        if (lead >= 0xc2 && lead <= 0xdf) { needed = 1; code = lead & 0x1f; minimum = 0x80; }
        else if (lead >= 0xe0 && lead <= 0xef) { needed = 2; code = lead & 0x0f; minimum = 0x800; }
        else if (lead >= 0xf0 && lead <= 0xf4) { needed = 3; code = lead & 0x07; minimum = 0x10000; }
        let next = index + 1;
        let valid = needed > 0;
        for (let count = 0; count < needed; count++) {
          const continuation = bytes[next];
          if (next >= bytes.length || (continuation & 0xc0) !== 0x80) {
            valid = false;
            break;
          }
          code = (code << 6) | (continuation & 0x3f);
          next++;
        }
        if (valid && needed > 0) {
          valid = code >= minimum && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
        }
        index = valid || needed === 0 ? Math.max(next, index + 1) : next;
        if (!valid) {
          if (fatal) return undefined;
          code = 0xfffd;
        }
      }
      if (code > 0xffff) {
        code -= 0x10000;
        units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
      } else {
        units.push(code);
      }
      if (units.length >= 8192) {
        result += fromCharCode.apply(undefined, units);
        units = [];
      }
    }
    return result + fromCharCode.apply(undefined, units);
  };

  const bytesOf = (input) => {
    if (input === undefined) return new Uint8Array(0);
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("expected an ArrayBuffer or a typed array");
  };

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return encodeUtf8(String(input)); }
  }
  class TextDecoder {
    #fatal;
    constructor(label = "utf-8", options = {}) {
      if (!/^(unicode-1-1-)?utf-?8$/i.test(String(label).trim())) throw new RangeError("only utf-8 is supported");
      this.#fatal = options.fatal === true;
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this.#fatal; }
    decode(input) {
      const text = decodeUtf8(bytesOf(input), this.#fatal);
      if (text === undefined) throw new TypeError("the encoded data was not valid utf-8");
      return text;
    }
  }
  defineProperty(global, "TextEncoder", { value: TextEncoder, writable: true, configurable: true });
  defineProperty(global, "TextDecoder", { value: TextDecoder, writable: true, configurable: true });
  defineProperty(global, "queueMicrotask", {
    value: (callback) => { Promise.resolve().then(() => callback()); },
    writable: true,
    configurable: true
  });

  const decodeText = (data) => decodeUtf8(data, false);

  // Bytes the host can copy without dragging a larger backing buffer along.
  const exactBytes = (view) => {
    const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  };

  // A body for publish/put: strings stay strings (the host encodes them), bytes are copied,
  // anything else becomes JSON.
  const bodyOf = (value) => {
    if (value === undefined || value === null) return "";
    if (typeof value === "string") return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    if (isView(value)) return exactBytes(value);
    const text = stringifyJson(value);
    return text === undefined ? "" : text;
  };

  const headerPairsOf = (headers) => {
    const pairs = [];
    if (headers === undefined || headers === null) return pairs;
    const add = (name, value) => {
      if (isArray(value)) for (const item of value) pairs.push([String(name), String(item)]);
      else pairs.push([String(name), String(value)]);
    };
    if (isArray(headers)) {
      for (const entry of headers) add(entry[0], entry[1]);
    } else {
      for (const name of keys(headers)) add(name, headers[name]);
    }
    return pairs;
  };

  const headerMethods = {
    get(name) {
      const wanted = String(name).toLowerCase();
      for (const key of keys(this)) if (key.toLowerCase() === wanted) return this[key];
      return undefined;
    },
    has(name) { return this.get(name) !== undefined; }
  };
  defineProperty(headerMethods, "get", { enumerable: false });
  defineProperty(headerMethods, "has", { enumerable: false });

  // Own enumerable properties name → value (repeated headers joined with ", "), plus get()/has().
  const headersOf = (pairs) => {
    const headers = Object.create(headerMethods);
    if (pairs === undefined) return headers;
    for (const [name, value] of pairs) {
      const joined = hasOwn(headers, name) ? headers[name] + ", " + value : value;
      defineProperty(headers, name, { value: joined, enumerable: true, writable: true, configurable: true });
    }
    return headers;
  };

  const withBody = (target, data) => {
    target.data = data;
    target.text = () => decodeText(data);
    target.json = () => parseJson(decodeText(data));
    return target;
  };

  const deepFreeze = (value) => {
    if (value !== null && typeof value === "object" && !isFrozen(value)) {
      freeze(value);
      for (const key of keys(value)) deepFreeze(value[key]);
    }
    return value;
  };

  const describeError = (error) => {
    try {
      if (error instanceof Error) return error.name === "Error" ? String(error.message) : error.name + ": " + error.message;
      return String(error);
    } catch {
      return "a value that cannot be described was thrown";
    }
  };

  const formatLogValue = (value) => {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack === undefined ? describeError(value) : String(value.stack);
    try {
      const text = stringifyJson(value);
      return text === undefined ? String(value) : text;
    } catch {
      try { return String(value); } catch { return "[unprintable]"; }
    }
  };

  const maximumLogLength = 16384;
  const stillRunning = [4];
  // Enough for a handler that returns without waiting on the host (a few awaits of settled values).
  const batchTurns = 16;

  const install = (call, name, node) => {
    delete global.__nexInstall;
    const callOptions = {
      __proto__: null,
      arguments: { __proto__: null, copy: true },
      result: { __proto__: null, promise: true, copy: true }
    };
    const unwrap = (envelope) => {
      if (envelope.ok === true) return envelope.value;
      const error = new Error(String(envelope.message));
      error.code = String(envelope.code);
      throw error;
    };
    const hostCall = (operation, invocation, ...rest) => {
      try {
        return call.apply(undefined, [operation, invocation, ...rest], callOptions).then(unwrap);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const ignore = () => {};

    // Invocations currently running, in start order; console and timers belong to the latest.
    const active = new Map();
    const latestInvocation = () => {
      let latest = 0;
      for (const invocation of active.keys()) latest = invocation;
      return latest;
    };

    const log = (invocation, level, values) => {
      let text = "";
      for (let index = 0; index < values.length; index++) text += (index === 0 ? "" : " ") + formatLogValue(values[index]);
      if (text.length > maximumLogLength) text = text.slice(0, maximumLogLength) + "...";
      hostCall("log", invocation, level, text).then(ignore, ignore);
    };
    const consoleLevel = (level) => (...values) => log(latestInvocation(), level, values);
    const guestConsole = freeze({
      log: consoleLevel("info"),
      info: consoleLevel("info"),
      debug: consoleLevel("debug"),
      warn: consoleLevel("warn"),
      error: consoleLevel("error")
    });
    defineProperty(global, "console", { value: guestConsole, writable: true, configurable: true });

    // Timers live as long as the invocation that set them; the host ends them with it.
    const timers = new Set();
    let timerSequence = 0;
    const setTimeout = (callback, delay = 0, ...parameters) => {
      if (typeof callback !== "function") throw new TypeError("setTimeout needs a function");
      const invocation = latestInvocation();
      if (invocation === 0) throw new Error("setTimeout is only available while handling a message");
      const id = ++timerSequence;
      timers.add(id);
      const milliseconds = Math.max(0, Math.floor(Number(delay) || 0));
      hostCall("sleep", invocation, milliseconds).then(
        () => {
          if (!timers.delete(id)) return;
          try {
            callback(...parameters);
          } catch (error) {
            log(invocation, "error", ["uncaught error in a setTimeout callback:", error]);
          }
        },
        () => timers.delete(id)
      );
      return id;
    };
    const clearTimeout = (id) => { timers.delete(id); };
    defineProperty(global, "setTimeout", { value: setTimeout, writable: true, configurable: true });
    defineProperty(global, "clearTimeout", { value: clearTimeout, writable: true, configurable: true });

    let config = freeze({});
    const configCallbacks = new Set();

    const entryOf = (result) => result === null ? null : withBody({ key: result.key, revision: result.revision }, result.data);
    const objectOf = (result) => result === null ? null : withBody({ name: result.name, size: result.size }, result.data);

    const makeContext = (invocation) => freeze({
      name,
      node,
      log: freeze({
        debug: (...values) => log(invocation, "debug", values),
        info: (...values) => log(invocation, "info", values),
        warn: (...values) => log(invocation, "warn", values),
        error: (...values) => log(invocation, "error", values)
      }),
      config: () => config,
      onConfig: (callback) => {
        if (typeof callback !== "function") throw new TypeError("onConfig needs a function");
        configCallbacks.add(callback);
        return () => { configCallbacks.delete(callback); };
      },
      kv: (bucket) => freeze({
        get: (key) => hostCall("kv.get", invocation, bucket, key).then(entryOf),
        put: (key, value) => hostCall("kv.put", invocation, bucket, key, bodyOf(value)),
        delete: (key) => hostCall("kv.delete", invocation, bucket, key),
        keys: (filter) => hostCall("kv.keys", invocation, bucket, filter === undefined ? ">" : filter)
      }),
      objects: (bucket) => freeze({
        put: (objectName, value) => hostCall("objects.put", invocation, bucket, objectName, bodyOf(value)),
        get: (objectName) => hostCall("objects.get", invocation, bucket, objectName).then(objectOf),
        info: (objectName) => hostCall("objects.info", invocation, bucket, objectName),
        list: () => hostCall("objects.list", invocation, bucket),
        delete: (objectName) => hostCall("objects.delete", invocation, bucket, objectName)
      }),
      artifacts: freeze({
        put: (artifactName, value) => hostCall("artifacts.put", invocation, artifactName, bodyOf(value)),
        get: (artifactName) => hostCall("artifacts.get", invocation, artifactName).then(objectOf)
      }),
      publish: (subject, data, options) =>
        hostCall("publish", invocation, subject, bodyOf(data), headerPairsOf(options === undefined ? undefined : options.headers)),
      request: (subject, data, options) => {
        const timeout = options === undefined ? 0 : Math.max(0, Math.floor(Number(options.timeout) || 0));
        const headers = headerPairsOf(options === undefined ? undefined : options.headers);
        return hostCall("request", invocation, subject, bodyOf(data), headers, timeout).then((reply) =>
          withBody({ subject: reply.subject, headers: headersOf(reply.headers) }, reply.data)
        );
      }
    });

    let handler;
    let bound = false;
    let markReady;
    const ready = new Promise((resolve) => { markReady = resolve; });
    defineProperty(global, "__nexBind", {
      configurable: true,
      value: (namespace) => {
        delete global.__nexBind;
        handler = namespace.default;
        if (typeof namespace.onConfig === "function") configCallbacks.add(namespace.onConfig);
        bound = true;
        markReady();
      }
    });

    const resultOf = (value) => {
      if (value === undefined) return [0];
      if (typeof value === "string") return [1, value];
      if (value instanceof ArrayBuffer) return [2, new Uint8Array(value.slice(0))];
      if (isView(value)) return [2, exactBytes(value)];
      const text = stringifyJson(value);
      return text === undefined ? [0] : [1, text];
    };

    const dispatch = async (invocation, kind, subject, reply, data, headerPairs) => {
      active.set(invocation, true);
      try {
        await ready;
        if (kind === 1) {
          const context = makeContext(invocation);
          for (const callback of [...configCallbacks]) await callback(config, context);
          return [0];
        }
        if (typeof handler !== "function") throw new TypeError("the workload module has no default export function");
        const message = withBody({ subject, reply: reply === "" ? undefined : reply, headers: headersOf(headerPairs) }, data);
        return resultOf(await handler(message, makeContext(invocation)));
      } catch (error) {
        return [3, describeError(error)];
      } finally {
        active.delete(invocation);
      }
    };

    // A batch returns once its calls finished, or after a few microtask turns: a call still running
    // then reports [4] and its promise waits here until the host asks for it with outcomeOf.
    const running = new Map();
    const dispatchAll = async (calls) => {
      const outcomes = [];
      let unfinished = calls.length;
      let collecting = true;
      for (let index = 0; index < calls.length; index++) {
        const call = calls[index];
        outcomes.push(stillRunning);
        const outcome = dispatch(call[0], call[1], call[2], call[3], call[4], call[5]);
        running.set(call[0], outcome);
        outcome.then((result) => {
          if (!collecting) return;
          running.delete(call[0]);
          outcomes[index] = result;
          unfinished--;
        });
      }
      for (let turn = 0; turn < batchTurns && unfinished > 0; turn++) await undefined;
      collecting = false;
      return outcomes;
    };
    const outcomeOf = (invocation) => {
      const outcome = running.get(invocation);
      running.delete(invocation);
      return outcome === undefined ? [3, "unknown invocation"] : outcome;
    };

    const setConfig = (text) => {
      try {
        config = deepFreeze(parseJson(text));
      } catch {
        config = freeze({});
      }
      return configCallbacks.size;
    };

    // "pending" while a top-level await runs; whenBound resolves once it finished.
    const bindingState = () => {
      if (!bound) return "pending";
      return typeof handler === "function" ? "ready" : "the module has no default export function";
    };
    const whenBound = async () => {
      await ready;
      return bindingState();
    };

    return [dispatch, setConfig, bindingState, whenBound, dispatchAll, outcomeOf];
  };
  defineProperty(global, "__nexInstall", { configurable: true, value: install });
})();
`
