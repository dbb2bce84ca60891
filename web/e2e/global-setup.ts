// Starts the real platform for the browser tests: `ecomon serve` on a fresh data directory with
// the Guangyuan registry, the users of users.ts, forwarding of 2524A's hours to a fake provincial
// platform (fakeUpstream), and the demo's data sent
// through HJ 212 by `ecomon simulate` (the real 2020 hourly data of Guangyuan's national air
// stations shifted to now, and the water sections' real 2026-02-04 snapshot). The server's
// address reaches the tests as E2E_BASE_URL; the teardown stops it and removes the directory.
import { ChildProcess, execFileSync, spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { hj212Crc } from './hj212'
import { USERS } from './users'

const repo = resolve(import.meta.dirname, '../..')

function binary(): string {
  if (process.env.ECOMON) return process.env.ECOMON
  for (const p of ['build/release/ecomon', 'build/dev/ecomon']) {
    if (existsSync(join(repo, p))) return join(repo, p)
  }
  throw new Error('no ecomon binary: set ECOMON or run make build')
}

function started(proc: ChildProcess): Promise<{ hj: number; http: number }> {
  return new Promise((ok, fail) => {
    let log = ''
    const timer = setTimeout(() => fail(new Error('ecomon serve did not start:\n' + log)), 60_000)
    proc.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      const m = /HJ 212 on [^:]+:(\d+), HTTP on https?:\/\/[^:]+:(\d+)\//.exec(log)
      if (m) {
        clearTimeout(timer)
        ok({ hj: Number(m[1]), http: Number(m[2]) })
      }
    })
    proc.on('exit', (code) => fail(new Error(`ecomon serve exited (${code}):\n${log}`)))
  })
}

// A provincial platform for the forwarding test: it acknowledges every HJ 212 frame it receives
// (9014 with the frame's QN) and appends the frame to `log`, where the test reads what arrived.
function fakeUpstream(log: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let buffer = ''
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8')
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        appendFileSync(log, frame + '\n')
        const qn = /QN=(\d+)/.exec(frame)?.[1]
        const mn = /MN=([^;]+)/.exec(frame)?.[1] ?? ''
        if (!qn) continue
        const segment = `QN=${qn};ST=91;CN=9014;PW=123456;MN=${mn};Flag=4;CP=&&&&`
        socket.write(`##${String(segment.length).padStart(4, '0')}${segment}${hj212Crc(segment)}\r\n`)
      }
    })
    socket.on('error', () => {})
  })
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: (server.address() as any).port })))
}

export default async function globalSetup() {
  const bin = binary()
  const dir = mkdtempSync(join(tmpdir(), 'ecomon-e2e-'))
  for (const u of Object.values(USERS)) {
    execFileSync(bin, ['user', 'add', '--data', dir, '--name', u.name, '--role', u.role, '--password-stdin'], {
      input: u.password + '\n',
    })
  }
  // Station 2524A's hourly data is forwarded to a (fake) provincial platform from the beginning.
  const upstreamLog = join(dir, 'upstream.log')
  writeFileSync(upstreamLog, '')
  const upstream = await fakeUpstream(upstreamLog)
  const config = join(dir, 'serve.toml')
  writeFileSync(
    config,
    `[[forward]]\nname = "province"\nhost = "127.0.0.1"\nport = ${upstream.port}\npw = "prov-2026"\n` +
      `kinds = ["hour"]\nsites = ["2524A"]\nfrom = "beginning"\n`,
  )
  const server = spawn(
    bin,
    ['serve', '--data', dir, '--registry', join(repo, 'config/registry'), '--hj212-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--web-root', join(repo, 'web/dist'), '--config', config],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const ports = await started(server)
  server.stderr!.resume()
  execFileSync(
    bin,
    [
      'simulate', '--to', `127.0.0.1:${ports.hj}`, '--registry', join(repo, 'config/registry'), '--rate', '0', '--window', '4',
      '--replay', join(repo, 'data/air_cn_sichuan_hourly_2020/guangyuan_station_hourly_2020-03-26_2020-04-08.csv'),
      '--snapshot', join(repo, 'data/water_cn_auto_snapshot_2026-02-04/guangyuan_sections_snapshot_2026-02-04.csv'),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
  )
  process.env.E2E_BASE_URL = `http://127.0.0.1:${ports.http}`
  process.env.E2E_HJ212_PORT = String(ports.hj)
  process.env.E2E_UPSTREAM_LOG = upstreamLog
  return async () => {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
    upstream.server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
