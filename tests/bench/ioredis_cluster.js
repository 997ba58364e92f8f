// The same SET loads as `redis_ha_bench cluster` through ioredis's Cluster,
// for the comparison in docs/cluster.md. ioredis is not a dependency of the
// project: install it outside the tree and point NODE_PATH at it, e.g.
//   (cd /tmp/ioredis-bench && npm install ioredis@5)
//   NODE_PATH=/tmp/ioredis-bench/node_modules redis_ha_bench cluster --ioredis tests/bench/ioredis_cluster.js
// Usage: node ioredis_cluster.js SECONDS PORT... ; prints one JSON line.
'use strict';
const Redis = require('ioredis');

const seconds = Number(process.argv[2]);
const ports = process.argv.slice(3).map(Number);
const value = '0123456789abcdef';

async function run(cluster, conc, batch) {
  const deadline = Date.now() + seconds * 1000;
  let commands = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conc }, async (_, id) => {
    let n = 0;
    while (Date.now() < deadline) {
      const tag = `{r${id}:${n++ % 64}}`;
      if (batch === 1) {
        await cluster.set(tag + '0', value);
      } else {
        const p = cluster.pipeline();
        for (let i = 0; i < batch; ++i) p.set(tag + i, value);
        const res = await p.exec();
        for (const [err] of res) if (err) throw err;
      }
      commands += batch;
    }
  }));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return commands / elapsed;
}

(async () => {
  const cluster = new Redis.Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
  await new Promise((resolve, reject) => { cluster.once('ready', resolve); cluster.once('error', reject); });
  const conc50 = await run(cluster, 50, 1);
  const pipe = await run(cluster, 50, 16);
  console.log(JSON.stringify({ ioredis_conc50_ops_s: Math.round(conc50), ioredis_pipe16x50_ops_s: Math.round(pipe) }));
  cluster.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
