// Minimal types for the `bindings` loader (it ships none).
declare module 'bindings' {
  function bindings(opts: string | Record<string, unknown>): unknown;
  export = bindings;
}
