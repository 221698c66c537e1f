// Loaded with NODE_OPTIONS=--require <this file> before js-ipfs starts.
// js-ipfs 0.66's dependencies call Promise.withResolvers, which Node gained only in 22;
// this is the standard polyfill, a no-op on a Node that has it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
