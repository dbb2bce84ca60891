// Live updates: the server-sent events of GET /api/v1/events (alarm events; the browser resumes
// with Last-Event-ID by itself) and a slow refresh for everything else. No page reloads.
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { can } from './session.js'

export function useLive(refresh, { everyMs = 60000, onEvent } = {}) {
  const connected = ref(false)
  let source = null
  let timer = null
  onMounted(() => {
    timer = setInterval(refresh, everyMs)
    if (can('alarm.read') && typeof EventSource !== 'undefined') {
      source = new EventSource('/api/v1/events')
      source.onopen = () => (connected.value = true)
      source.onerror = () => (connected.value = false)
      // The server names its events ("event: alarm"), which onmessage never sees.
      const handle = (m) => {
        let data = null
        try {
          data = JSON.parse(m.data)
        } catch {
          data = null
        }
        if (onEvent) onEvent(data)
        else refresh()
      }
      source.addEventListener('alarm', handle)
      source.onmessage = handle
    }
  })
  onBeforeUnmount(() => {
    clearInterval(timer)
    if (source) source.close()
  })
  return { connected }
}
