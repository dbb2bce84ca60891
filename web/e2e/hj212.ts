// A data logger for the browser tests: one HJ 212-2017 upload over TCP to the real server,
// resolved when the platform's 9014 acknowledgement arrives (the value is durably stored then).
import { createConnection } from 'node:net'

// HJ 212-2017 §6.3.5 CRC (the standard's appendix loop): over the data segment, as 4 hex digits.
export function hj212Crc(segment: string): string {
  let crc = 0xffff
  for (const byte of Buffer.from(segment, 'utf8')) {
    crc = (crc >> 8) ^ byte
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1
  }
  return crc.toString(16).toUpperCase().padStart(4, '0')
}

// YYYYMMDDhhmmss in Beijing time (HJ 212 DataTime).
export function dataTime(ms: number): string {
  const d = new Date(ms + 8 * 3600e3)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}

export function hj212Port(): number {
  const p = Number(process.env.E2E_HJ212_PORT)
  if (!p) throw new Error('E2E_HJ212_PORT is not set (global-setup.ts)')
  return p
}

// Sends one upload (CN 2051 minute data by default) and waits for its 9014.
export async function sendUpload(opts: { mn: string; pw?: string; st?: string; cn?: string; cp: string }): Promise<string> {
  const qn = dataTime(Date.now()) + String(Date.now() % 1000).padStart(3, '0')
  const segment = `QN=${qn};ST=${opts.st ?? '22'};CN=${opts.cn ?? '2051'};PW=${opts.pw ?? '123456'};MN=${opts.mn};Flag=5;CP=&&${opts.cp}&&`
  const frame = `##${String(segment.length).padStart(4, '0')}${segment}${hj212Crc(segment)}\r\n`
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: hj212Port() })
    let got = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no 9014 within 10 s; got: ' + got))
    }, 10_000)
    socket.on('connect', () => socket.write(frame))
    socket.on('data', (chunk) => {
      got += chunk.toString('utf8')
      if (got.includes('CN=9014') && got.includes(qn)) {
        clearTimeout(timer)
        socket.end()
        resolve(got)
      }
    })
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}
