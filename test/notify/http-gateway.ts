/**
 * A small web SMS gateway of the tests' own (node:http on a free port of
 * 127.0.0.1): records every request and answers as the test scripts it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from '../lab/ports.js';

export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What to answer: status + body, or 'hang' (never answer). */
export type Answer = { status: number; body?: string } | 'hang';

export interface Gateway {
  port: number;
  base: string;
  seen: SeenRequest[];
  /** Answers for the next requests, in order; when empty, `fallback` is used. */
  script: Answer[];
  fallback: Answer;
  close(): Promise<void>;
}

export async function startGateway(): Promise<Gateway> {
  const port = await freePort();
  const hanging: ServerResponse[] = [];
  const gw: Gateway = {
    port,
    base: `http://127.0.0.1:${port}`,
    seen: [],
    script: [],
    fallback: { status: 200, body: 'OK' },
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      gw.seen.push({
        method: req.method ?? '',
        url: new URL(req.url ?? '/', gw.base),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = gw.script.shift() ?? gw.fallback;
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'text/plain' });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  gw.close = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return gw;
}
