/**
 * The least any Node.js HTTP recorder can do, for bench/state.bench.ts: read the body,
 * parse it, one durable single-row INSERT, answer 202. No framework, no token, no
 * validation, no applying. Measured in the same run as the service, it shows how much of
 * the distance to the raw-INSERT ceiling the HTTP hop alone costs on the machine at hand.
 *
 * Started by the bench as its own process: DATABASE_URL, DATABASE_MAX_CONNECTIONS; prints
 * `listening on http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_MAX_CONNECTIONS ?? 32) });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const answer = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    let ev: { run?: unknown; payloadId?: unknown; type?: unknown };
    try {
      ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      answer(400, JSON.stringify({ error: (err as Error).message }));
      return;
    }
    pool.query({
      name: 'floor', text: 'INSERT INTO raw_events (run, state, payload_id, message) VALUES ($1, $2, $3, $4)',
      values: [String(ev.run), String(ev.type), String(ev.payloadId), null],
    }).then(() => answer(202, '{"accepted":true}'), (err: Error) => answer(503, JSON.stringify({ error: err.message })));
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : '?'}`);
});
process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
