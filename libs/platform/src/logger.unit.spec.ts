import { stripVTControlCharacters } from 'node:util';
import { createLogger, NestPinoLogger } from './logger';

function capture() {
  const lines: string[] = [];
  return {
    lines,
    // Colours depend on the terminal; what a person reads is the text.
    destination: { write: (line: string) => lines.push(stripVTControlCharacters(line)) },
  };
}

describe('logs', () => {
  it('given the default format, then each line is one JSON object (for machines)', () => {
    const out = capture();
    const log = createLogger('info', { app: 'org-server' }, { destination: out.destination });
    log.info({ url: 'http://127.0.0.1:3000' }, 'org server listening');
    expect(JSON.parse(out.lines[0])).toMatchObject({
      level: 30,
      app: 'org-server',
      url: 'http://127.0.0.1:3000',
      msg: 'org server listening',
    });
  });

  it('given the pretty format, then a person reads one short line per event, requests as a sentence, secrets still redacted', () => {
    const out = capture();
    const log = createLogger(
      'info',
      { app: 'org-server' },
      { format: 'pretty', destination: out.destination },
    );
    log.info({ url: 'http://127.0.0.1:3000' }, 'org server listening');
    log.info({ reqId: 'r-1', method: 'POST', route: '/v1/orgs', status: 201, ms: 3.25 }, 'request');
    log.warn({ password: 'hunter2' }, 'sign-in refused');
    expect(out.lines).toHaveLength(3);
    expect(out.lines.join('')).not.toMatch(/^\{/m);
    expect(out.lines[0]).toMatch(
      /^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO: \(org-server\) org server listening \{"url":"http:\/\/127\.0\.0\.1:3000"\}\n$/,
    );
    expect(out.lines[1]).toMatch(/INFO: \(org-server\) POST \/v1\/orgs 201 3\.25 ms\n$/);
    expect(out.lines[1]).not.toContain('r-1');
    expect(out.lines[2]).toMatch(/WARN: \(org-server\) sign-in refused \{"password":"\[redacted\]"\}/);
    expect(out.lines[2]).not.toContain('hunter2');
  });

  it("given Nest's start-up chatter (modules loaded, routes mapped), then it goes to debug; Nest's other messages stay at info", () => {
    const out = capture();
    const nest = new NestPinoLogger(createLogger('debug', {}, { destination: out.destination }));
    nest.log('DirectoryModule dependencies initialized', 'InstanceLoader');
    nest.log('OrgsController {/v1/orgs}:', 'RoutesResolver');
    nest.log('Mapped {/v1/orgs, POST} route', 'RouterExplorer');
    nest.log('Starting Nest application...', 'NestFactory');
    nest.log('Nest application successfully started', 'NestApplication');
    nest.log('something else worth knowing', 'SomeService');
    expect(out.lines.map((l) => JSON.parse(l)).map((l) => [l.level, l.context])).toEqual([
      [20, 'InstanceLoader'],
      [20, 'RoutesResolver'],
      [20, 'RouterExplorer'],
      [20, 'NestFactory'],
      [20, 'NestApplication'],
      [30, 'SomeService'],
    ]);
  });
});
