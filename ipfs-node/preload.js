// Loaded with NODE_OPTIONS=--require <this file> before js-ipfs starts.

// 1. js-ipfs 0.66's dependencies call Promise.withResolvers, which Node gained only in 22;
//    this is the standard polyfill, a no-op on a Node that has it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

// 2. Crash guard. A `cat` whose server-side timeout fires while bitswap is still fetching a
//    multi-block file rejects a promise nobody awaits ("Want for <cid> aborted"), and the CLI's
//    own handler (src/cli.js: process.once('unhandledRejection', ... process.exit(1))) then kills
//    the whole daemon: one slow peer would take down the node that asked. Log the rejection and
//    keep serving; the request that timed out already answered its caller with an error.
process.on('unhandledRejection', (reason) => {
  const text = reason && reason.stack ? reason.stack : String(reason)
  console.error(`fedledger preload: unhandled rejection, daemon kept running: ${text}`)
})
for (const method of ['on', 'once', 'addListener', 'prependListener', 'prependOnceListener']) {
  const original = process[method]
  process[method] = function guarded (event, listener) {
    if (event === 'unhandledRejection') return this // ours stays the only one
    return original.call(this, event, listener)
  }
}
