// JavaScript Promise Integration (on by default from Node 24); not yet in lib.dom/@types/node.
declare namespace WebAssembly {
  class Suspending {
    constructor(fn: (...args: any[]) => unknown);
  }
  function promising(fn: Function): (...args: any[]) => Promise<any>;
}
