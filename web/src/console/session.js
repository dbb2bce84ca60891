// Who is logged in (GET /api/v1/me: user, role, scopes, actions), shared by every view.
import { reactive } from 'vue'
import { api } from '../shared/api.js'

export const session = reactive({ loaded: false, user: null, role: null, actions: [], scopes: [] })

export async function loadSession() {
  try {
    const me = await api('/api/v1/me')
    Object.assign(session, { loaded: true, user: me.user, role: me.role, actions: me.actions || [], scopes: me.scopes || [] })
  } catch {
    Object.assign(session, { loaded: true, user: null, role: null, actions: [], scopes: [] })
  }
  return session
}

export function can(action) {
  return session.actions.includes(action)
}

export async function logout() {
  try {
    await api('/api/auth/logout', { method: 'POST' })
  } finally {
    Object.assign(session, { user: null, role: null, actions: [], scopes: [] })
  }
}
