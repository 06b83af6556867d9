// The slice of mocha's API the extension-host suite uses (no @types/mocha in the project).
interface MochaContext {
  timeout(ms: number): void;
  skip(): never;
}
type MochaBody = (this: MochaContext) => void | Promise<void>;
declare function describe(title: string, body: (this: MochaContext) => void): void;
declare function it(title: string, body: MochaBody): void;
declare function before(body: MochaBody): void;
declare function after(body: MochaBody): void;

declare module 'mocha' {
  class Mocha {
    constructor(options?: { ui?: string; timeout?: number; color?: boolean; reporter?: string });
    addFile(file: string): this;
    run(done: (failures: number) => void): unknown;
  }
  export = Mocha;
}
