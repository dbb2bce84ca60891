// The dashboard's pages. A page names the API action it needs (auth/roles.h); a user without it
// sees the 403 page instead (the API refuses the data anyway).
import { createRouter, createWebHistory } from 'vue-router'
import { can, loadSession, session } from './session.js'
import { setUnauthorizedHandler } from '../shared/api.js'

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  { path: '/', redirect: '/map' },
  { path: '/map', name: 'map', component: () => import('./views/MapView.vue'), meta: { action: 'data.read' } },
  { path: '/overview', name: 'overview', component: () => import('./views/OverviewView.vue'), meta: { action: 'data.read' } },
  { path: '/sites/:code', name: 'site', component: () => import('./views/SiteView.vue'), meta: { action: 'data.read' } },
  { path: '/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { action: 'data.review' } },
  { path: '/marks', name: 'marks', component: () => import('./views/MarksView.vue'), meta: { action: 'data.review' } },
  { path: '/alarms', name: 'alarms', component: () => import('./views/AlarmsView.vue'), meta: { action: 'alarm.read' } },
  { path: '/enterprises', name: 'enterprises', component: () => import('./views/EnterprisesView.vue'), meta: { action: 'data.read' } },
  { path: '/rules', name: 'rules', component: () => import('./views/RulesView.vue'), meta: { action: 'alarm.read' } },
  { path: '/devices', name: 'devices', component: () => import('./views/DevicesView.vue'), meta: { action: 'device.read' } },
  { path: '/forward', name: 'forward', component: () => import('./views/ForwardView.vue'), meta: { action: 'metrics.read' } },
  { path: '/forbidden', name: 'forbidden', component: () => import('./views/ForbiddenView.vue') },
  { path: '/:rest(.*)*', redirect: '/map' },
]

export const router = createRouter({ history: createWebHistory('/console/'), routes })

router.beforeEach(async (to) => {
  if (!session.loaded) await loadSession()
  if (to.meta.public) return true
  if (!session.user) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.action && !can(to.meta.action)) return { name: 'forbidden', query: { page: to.fullPath } }
  return true
})

setUnauthorizedHandler(() => {
  session.user = null
  if (router.currentRoute.value.name !== 'login') router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
})
