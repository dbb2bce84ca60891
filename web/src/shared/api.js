// The one way the pages talk to ecomon's HTTP API: same origin, the session cookie
// (HttpOnly, set by POST /api/auth/login) travels by itself; errors carry the API's reason.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`)
    this.status = status
    this.code = code
  }
}

// Called with every 401 of a protected route (the console sends the user to the login page).
let onUnauthorized = null
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, credentials: 'same-origin', signal, headers: {} }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const res = await fetch(path, init)
  const text = await res.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {}
    if (res.status === 401 && onUnauthorized && !path.startsWith('/api/auth/login')) onUnauthorized()
    throw new ApiError(res.status, err.code, err.message)
  }
  return data
}

// ISO 8601 with the Beijing offset, as the API wants its from/to parameters.
export function isoBeijing(ms) {
  const d = new Date(ms + 8 * 3600 * 1000)
  const p = (n) => String(n).padStart(2, '0')
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}` +
    `T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}+08:00`
  )
}

// "2026-12-07T14:00:00+08:00" → "12-07 14:00" (Beijing time as the API wrote it).
export function shortTime(iso) {
  if (!iso) return ''
  return iso.slice(5, 16).replace('T', ' ')
}

export function query(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v)
  }
  return q.toString()
}
