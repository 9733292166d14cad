// @ts-check
// Peers (`--peers`): installs the pinned packages into bench/out/peers (bench/peers.mjs,
// the one adapter table every bench script reads) and loads them. Never fails the run:
// a peer that cannot be installed or loaded is reported and left out.

/** { requested, modules, unavailable, installed, kinds, versions, pinned } */
export async function run(ctx) {
  const WANT_PEERS = ctx.config.WANT_PEERS;
  let peers = { requested: WANT_PEERS, modules: {}, unavailable: {}, installed: null };
  if (WANT_PEERS) {
    const { PEERS, ensurePeers } = await import('../peers.mjs');
    const pinned = Object.entries(PEERS).map(([n, p]) => `${n}@${p.version}`);
    console.log(`peers: ${pinned.join(', ')} in bench/out/peers ...`);
    const t0 = Date.now();
    peers = { requested: true, pinned, ...ensurePeers() };
    const ok = Object.keys(peers.modules);
    console.log(
      `peers: ${peers.installed === 'reused' ? 'already installed' : `${peers.installed} (${((Date.now() - t0) / 1000).toFixed(1)} s)`}; ` +
        `measured: ${ok.length ? ok.join(', ') : 'none'}`,
    );
    for (const [name, why] of Object.entries(peers.unavailable)) {
      console.log(`peer unavailable: ${name}@${PEERS[name].version} (${why}); its rows are left out`);
    }
    if (Object.keys(peers.unavailable).length && peers.log) console.log('   npm output: bench/out/peers/install.log');
    peers.kinds = Object.fromEntries(ok.map((n) => [n, PEERS[n].kind]));
    peers.versions = Object.fromEntries(ok.map((n) => [n, PEERS[n].version]));
  }
  peers.kinds ??= {};
  peers.versions ??= {};
  return peers;
}
